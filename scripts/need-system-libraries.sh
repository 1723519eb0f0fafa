#!/usr/bin/env bash
# Installs, with apt, the C headers the build needs when they are missing: SQLite's (the journal)
# and zlib's (reading .xlsx workbooks, through ZIPFoundation). Called by test.sh, demo.sh, install.sh.
set -euo pipefail
missing=()
{ [ -f /usr/include/sqlite3.h ] || dpkg -s libsqlite3-dev >/dev/null 2>&1; } || missing+=(libsqlite3-dev)
{ [ -f /usr/include/zlib.h ] || dpkg -s zlib1g-dev >/dev/null 2>&1; } || missing+=(zlib1g-dev)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]} ..." >&2
  (apt-get update -qq && apt-get install -y -qq "${missing[@]}") >/dev/null
fi

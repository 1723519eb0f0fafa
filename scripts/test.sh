#!/usr/bin/env bash
# Runs every test: units, the client and emulator over real sockets on 127.0.0.1, and the built
# binaries end to end. Installs the system library the build needs when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! { [ -f /usr/include/sqlite3.h ] || dpkg -s libsqlite3-dev >/dev/null 2>&1; }; then
  echo "installing libsqlite3-dev ..." >&2
  (apt-get update -qq && apt-get install -y -qq libsqlite3-dev) >/dev/null
fi
swift test "$@"

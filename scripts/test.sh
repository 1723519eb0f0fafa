#!/usr/bin/env bash
# Runs every test: units, the client and emulator over real sockets on 127.0.0.1, and the built
# binaries end to end. Installs the system library the build needs when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/need-system-libraries.sh
swift test "$@"

#!/usr/bin/env bash
# The simulation: licprov's engine (planner, journal on a SQLite file, workers, retries, lookups,
# customers) run in process against the emulator in process, with faults drawn from a seed, its
# process killed at drawn requests and started again on the journal the kill left; then checked
# (every row's licenses exactly once, each customer once, the results file as the account, a
# rerun sends nothing).
#
#   scripts/simulate.sh --seeds N [--base B] [--jobs J]   N schedules from seeds drawn from B
#                                                       (B printed; random when not given)
#   scripts/simulate.sh --seed S                         replay one schedule: its whole trace
#
# Ends with "simulated N schedules: V violations" and exits 1 on any, printing for each failing
# seed its violations, the end of its trace and the command that replays it.
# LICPROV_SIMULATE_CONFIGURATION=release builds optimised; LICPROV_SIMULATE_BUILT=1 runs the binary
# the test build just made (CI: `swift build --product` would compile some modules again with its
# own flags).
set -euo pipefail
cd "$(dirname "$0")/.."
configuration=${LICPROV_SIMULATE_CONFIGURATION:-debug}
if [ "${LICPROV_SIMULATE_BUILT:-}" != 1 ]; then
  scripts/need-system-libraries.sh
  swift build -c "$configuration" --product licprov-simulate >&2
fi
# Swift seeds its hashing per process; fixed, a set's order (a batch lookup's values) is the
# same on every run, so one seed replays the same requests.
export SWIFT_DETERMINISTIC_HASHING=1
exec "$(swift build -c "$configuration" --show-bin-path)/licprov-simulate" "$@"

#!/usr/bin/env bash
# Replays seeds: each schedule from FROM to TO run twice, its trace digests compared. Prints the
# seeds whose two runs differ and a count, split by one worker and several; exits 1 on any
# difference.
#
#   scripts/simulate-replay.sh FROM TO
#
# LICPROV_SIMULATE_CONFIGURATION and LICPROV_SIMULATE_BUILT as for scripts/simulate.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
from=${1:?usage: scripts/simulate-replay.sh FROM TO}
to=${2:?usage: scripts/simulate-replay.sh FROM TO}
configuration=${LICPROV_SIMULATE_CONFIGURATION:-debug}
if [ "${LICPROV_SIMULATE_BUILT:-}" != 1 ]; then
  scripts/need-system-libraries.sh
  swift build -c "$configuration" --product licprov-simulate >&2
fi
export SWIFT_DETERMINISTIC_HASHING=1
binary="$(swift build -c "$configuration" --show-bin-path)/licprov-simulate"
same=(0 0)
differ=(0 0)
for seed in $(seq "$from" "$to"); do
  first=$("$binary" --seed "$seed" 2>&1 || true)
  second=$("$binary" --seed "$seed" 2>&1 || true)
  # The schedule's workers, from its first process line: "process 0 orders (faults on, 3 workers)".
  workers=$(grep -m1 -o '[0-9]* workers)' <<<"$first" | grep -o '^[0-9]*' || echo 1)
  several=$((workers > 1 ? 1 : 0))
  if [ "$(grep '^trace:' <<<"$first")" = "$(grep '^trace:' <<<"$second")" ]; then
    same[several]=$((same[several] + 1))
  else
    differ[several]=$((differ[several] + 1))
    echo "seed $seed ($workers workers): two runs, two traces (diff the output of scripts/simulate.sh --seed $seed)"
  fi
done
echo "replayed seeds $from-$to twice: one worker ${same[0]} the same, ${differ[0]} differ; several workers ${same[1]} the same, ${differ[1]} differ"
[ $((differ[0] + differ[1])) = 0 ]

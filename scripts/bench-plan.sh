#!/usr/bin/env bash
# Measures `licprov plan` of a file against as many managed licenses, all unchanged: the requests
# it makes (the emulator's count; the issue's bound is pages of 100, +1), that it writes nothing,
# its time and its peak memory (max RSS). The licenses are made first by `licprov apply` against
# an emulator without a rate limit.
# Usage: scripts/bench-plan.sh [rows=10000 ...]   (e.g. scripts/bench-plan.sh 10000 100000)
# BENCH_BIN=DIR uses the licprov and cryptlex-emulator in DIR instead of building them (release).
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@")
[ ${#sizes[@]} -eq 0 ] && sizes=(10000)
if [ -n "${BENCH_BIN:-}" ]; then
  bin=$BENCH_BIN
else
  swift build -c release --product licprov >&2
  swift build -c release --product cryptlex-emulator >&2
  bin=$(swift build -c release --show-bin-path)
fi
work=$(mktemp -d)
trap 'kill "$emulator" 2>/dev/null || true; rm -rf "$work"' EXIT
counter() { curl -s "$url/__admin/counters" | python3 -c "import json,sys; c=json.load(sys.stdin); print(c['$1'])"; }
writes() { curl -s "$url/__admin/counters" | python3 -c "import json,sys; c=json.load(sys.stdin); print(c['licenseCreateRequests']+c['licenseUpdates']+c['licensesDeleted'])"; }
export CRYPTLEX_ACCESS_TOKEN=bench-token
for rows in "${sizes[@]}"; do
  "$bin/cryptlex-emulator" --port 0 --token bench-token --product prod-1 --no-rate-limit --log-level error >"$work/emulator.out" 2>/dev/null &
  emulator=$!
  for _ in $(seq 100); do grep -q listening "$work/emulator.out" 2>/dev/null && break; sleep 0.1; done
  url=$(sed -n 's/^listening on //p' "$work/emulator.out")
  python3 - "$rows" "$work/shop.csv" <<'PY'
import sys
rows, path = int(sys.argv[1]), sys.argv[2]
with open(path, "w") as f:
    f.write("order_id,productId,allowedActivations,revoked,subscriptionInterval\n")
    for i in range(1, rows + 1):
        f.write(f"O-{i},prod-1,{1 + i % 5},false,P1Y\n")
PY
  start=$(date +%s.%N)
  "$bin/licprov" apply "$work/shop.csv" --id-column order_id --api-url "$url" --rate 0 --yes --concurrency 64 >/dev/null 2>&1
  made=$(python3 -c "print(round($(date +%s.%N) - $start, 1))")
  before=$(counter requests); written=$(writes)
  /usr/bin/time -f '%e %M' -o "$work/time" "$bin/licprov" plan "$work/shop.csv" --id-column order_id --api-url "$url" --rate 0 --detailed-exitcode \
    >"$work/plan.out" 2>"$work/plan.err" && status=0 || status=$?
  read -r seconds kilobytes <"$work/time"
  echo "plan of $rows unchanged rows against $rows managed licenses: $(( $(counter requests) - before )) requests, $(( $(writes) - written )) writes," \
    "exit $status, ${seconds} s, max RSS $(( kilobytes / 1024 )) MiB (the licenses were made by apply in ${made} s)"
  tail -1 "$work/plan.out"
  kill "$emulator"; wait "$emulator" 2>/dev/null || true
done

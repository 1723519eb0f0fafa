#!/usr/bin/env bash
# Renders a licprov report to a PNG with headless Chromium (Debian's `chromium`, installed when
# missing).
#
#   scripts/report-screenshot.sh REPORT.html OUT.png   a report you have
#   scripts/report-screenshot.sh                       a sample: 250 licenses against the emulator at
#                                                      50 per 5 s with 5 % lost answers and 3 % 500s,
#                                                      killed once and resumed, then a second client's
#                                                      burst; writes report-sample.html and .png here
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null; then
  echo "installing chromium ..." >&2
  (apt-get update -qq && apt-get install -y -qq chromium) >/dev/null
fi
report=${1:-}
png=${2:-report-sample.png}
if [ -z "$report" ]; then
  swift build --product licprov >&2
  swift build --product cryptlex-emulator >&2
  bin=$(swift build --show-bin-path)
  work=$(mktemp -d)
  trap 'kill "$emulator" 2>/dev/null || true; rm -rf "$work"' EXIT
  "$bin/cryptlex-emulator" --port 0 --token sample-token --seed 7 --fault lost-response=0.05 --fault 500=0.03 \
    --latency-ms 40 --jitter-ms 80 >"$work/emulator.out" 2>/dev/null &
  emulator=$!
  for _ in $(seq 100); do grep -q listening "$work/emulator.out" 2>/dev/null && break; sleep 0.1; done
  url=$(sed -n 's/^listening on //p' "$work/emulator.out")
  export CRYPTLEX_ACCESS_TOKEN=sample-token
  python3 scripts/gen-orders.py csv 250 "$work/orders.csv" --no-customers
  printf 'ORD-99999999,prod-bench,,P1Y,2027-01-15,bench,pro\n' >>"$work/orders.csv"  # one bad row
  sed -i 's/^\(ORD-99999999\),prod-bench,/\1,prod-bench,-5/' "$work/orders.csv"
  flags=(--id-column order_id --api-url "$url" --reconcile-delay 1 --skip-invalid --progress none)
  "$bin/licprov" run "$work/orders.csv" "${flags[@]}" >/dev/null 2>&1 &
  run=$!
  sleep 8
  kill -KILL "$run" 2>/dev/null || true
  wait "$run" 2>/dev/null || true
  # A second client takes the window for a moment: the resumed run meets 429s.
  pids=()
  for _ in $(seq 60); do curl -s -o /dev/null "$url/v3/licenses?limit=1" -H "Authorization: Bearer sample-token" & pids+=($!); done
  wait "${pids[@]}"
  "$bin/licprov" run "$work/orders.csv" "${flags[@]}" >/dev/null 2>&1 || true
  report=report-sample.html
  "$bin/licprov" report "$work/orders.csv" -o "$report" >&2
fi
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1040,1800 \
  --screenshot="$PWD/$png" "file://$(realpath "$report")" >/dev/null 2>&1
echo "$png (from $report)"

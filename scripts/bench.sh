#!/usr/bin/env bash
# End-to-end figures for `licprov run` against the emulator on loopback (release builds, static
# Swift runtime). Prints one line per scenario; the journal is a real file with synchronous=FULL.
#
#   ceiling   1,000 licenses, default flags, emulator's default 50 per 5 s window: 429s and rate
#   latency   10,000 licenses, emulator latency 100 ms, no rate limits, --concurrency 32 (ceiling 320/s)
#   fast      30,000 licenses, no latency, no rate limits, --concurrency 64
#   large     100,000 rows to completion (peak memory), then the rerun that sends nothing
#   customers 200 orders for 100 new customers, then for 100 customers of whom 50 exist, at
#             Cryptlex's 50 per 5 s with 100 ± 50 ms latency: requests per license and licenses/s,
#             beside the sequential sample-importer behaviour (scripts/importer-baseline.py) on the
#             same emulator settings
#   window    500 plain licenses at 50 per 5 s, for every way a server counts (the emulator's
#             --rate-window-style), reset noise 0 and 50 ms, latency 100 ± 50 and 300 ± 150 ms:
#             429s and licenses/s end to end, default flags beside the fixed rate (--window-limit 0),
#             each on a fresh emulator (24 runs, about 25 minutes)
#   shared    the same 500, with a second licprov run (250 licenses) sharing the limit from the same
#             IP at the same time: both must finish with every license created; 429s and rates
#   nightly   a shop's cumulative export: 300,000 orders for 5,000 customers created on day 1, then
#             the same file plus 300 new orders on day 2, no rate limit: day 2's time end to end,
#             peak memory and licenses created (300)
#   first     a fresh 1,000,000-row file (5,000 customers): how long after the start its first
#             request and its first create go (the run is then stopped with SIGINT)
#   pull      100,000 licenses (5,000 customers) seeded with the limit paused, then `licprov pull` of all
#             of them at Cryptlex's 50 per 5 s, as CSV and as .xlsx: pages/s, requests, 429s, peak memory
#             (about 4 minutes); the workbook read back with openpyxl (scripts/check-xlsx.py)
#   upgrade   nightly's day 1 by an earlier build (BENCH_OLD_BIN=DIR: its journal schema), then
#             this build: the journal's migration alone (`status` on a copy), and day 2 on it
#
# Usage: scripts/bench.sh [scenario ...]   (default: all but customers, window, shared, nightly, first;
# `ceiling` takes about 2 minutes, `nightly` about 10). BENCH_BIN=DIR uses the licprov and
# cryptlex-emulator in DIR instead of building (to compare two builds on one machine).
set -euo pipefail
cd "$(dirname "$0")/.."
scenarios=("$@")
[ ${#scenarios[@]} -eq 0 ] && scenarios=(ceiling latency fast large)
if [ -n "${BENCH_BIN:-}" ]; then
  bin=$BENCH_BIN
else
  swift build -c release --static-swift-stdlib --product licprov >&2
  swift build -c release --static-swift-stdlib --product cryptlex-emulator >&2
  bin=$(swift build -c release --static-swift-stdlib --show-bin-path)
fi
work=$(mktemp -d)
emulator_pid=""
cleanup() { [ -n "$emulator_pid" ] && kill "$emulator_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
export CRYPTLEX_ACCESS_TOKEN=bench-token

start_emulator() { # emulator flags...
  [ -n "$emulator_pid" ] && kill "$emulator_pid" 2>/dev/null && wait "$emulator_pid" 2>/dev/null || true
  "$bin/cryptlex-emulator" --port 0 --token bench-token --log-level error "$@" >"$work/emulator.out" 2>"$work/emulator.err" &
  emulator_pid=$!
  for _ in $(seq 100); do grep -q listening "$work/emulator.out" 2>/dev/null && break; sleep 0.05; done
  url=$(sed -n 's/^listening on //p' "$work/emulator.out" | head -1)
}

counter() { curl -s "$url/__admin/counters" | python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }

run_licprov() { # name rows flags...  → prints the figures
  local name=$1 rows=$2; shift 2
  rm -f "$work"/orders.csv.*
  /usr/bin/time -f "%e %M" -o "$work/time" "$bin/licprov" run "$work/orders.csv" --api-url "$url" --id-column order_id \
    --log-level error "$@" >"$work/out" 2>"$work/err" || { echo "$name: licprov failed:"; cat "$work/err" "$work/out"; return 1; }
  read -r seconds rss <"$work/time"
  local created; created=$(counter licensesCreated)
  local limited; limited=$(counter rateLimited)
  python3 - "$name" "$rows" "$seconds" "$rss" "$created" "$limited" "$work/out" <<'PY'
import sys
name, rows, seconds, rss, created, limited, out = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]), sys.argv[7]
summary = open(out).read().splitlines()
print(f"{name:<9} {rows:>7} rows  {seconds:7.2f} s  {created / seconds:8.1f} licenses/s  created {created}  429s {limited}  peak {rss / 1024:6.1f} MiB")
print("          " + summary[1] if len(summary) > 1 else "")
PY
}

# The nightly file's day 2 (all.csv: day 1's rows plus 300 new) against day 1's journal: time end
# to end, peak memory, licenses created.
nightly_day2() {
  cp "$work/all.csv" "$work/orders.csv"
  local before; before=$(counter licensesCreated)
  /usr/bin/time -f "%e %M" -o "$work/time" "$bin/licprov" run "$work/orders.csv" --api-url "$url" --id-column order_id \
    --rate 0 --concurrency 64 --log-level error --progress none >"$work/out" 2>"$work/err" \
    || { echo "$1: licprov failed:"; cat "$work/err" "$work/out"; exit 1; }
  read -r seconds rss <"$work/time"
  echo "$1  ${seconds} s  peak $((rss / 1024)) MiB  created $(( $(counter licensesCreated) - before ))"
}

for scenario in "${scenarios[@]}"; do
  case $scenario in
    ceiling)
      python3 scripts/gen-orders.py csv 1000 "$work/orders.csv" --no-customers
      start_emulator
      run_licprov ceiling 1000
      ;;
    latency)
      python3 scripts/gen-orders.py csv 10000 "$work/orders.csv" --no-customers
      start_emulator --no-rate-limit --latency-ms 100
      run_licprov latency 10000 --rate 0 --concurrency 32
      ;;
    fast)
      python3 scripts/gen-orders.py csv 30000 "$work/orders.csv" --no-customers
      start_emulator --no-rate-limit
      run_licprov fast 30000 --rate 0 --concurrency 64
      ;;
    large)
      python3 scripts/gen-orders.py csv 100000 "$work/orders.csv" --no-customers
      start_emulator --no-rate-limit
      run_licprov large 100000 --rate 0 --concurrency 64
      cp "$work/orders.csv.results.csv" "$work/first.csv"
      /usr/bin/time -f "%e %M" -o "$work/time" "$bin/licprov" run "$work/orders.csv" --api-url "$url" --id-column order_id \
        --rate 0 --concurrency 64 --log-level error >"$work/out" 2>"$work/err"
      read -r seconds rss <"$work/time"
      same=$(cmp -s "$work/first.csv" "$work/orders.csv.results.csv" && echo identical || echo DIFFERENT)
      echo "rerun     100000 rows  ${seconds} s  requests sent: $(( $(counter licenseCreateRequests) - 100000 ))  peak $((rss / 1024)) MiB  results $same"
      ;;
    pull)
      python3 scripts/gen-orders.py csv 100000 "$work/orders.csv"
      start_emulator --product prod-bench
      curl -s -X PUT "$url/__admin/rate-limit" -d '{"paused":true}' >/dev/null
      "$bin/licprov" run "$work/orders.csv" --api-url "$url" --id-column order_id --rate 0 --concurrency 64 \
        --log-level error --progress none >/dev/null
      curl -s -X PUT "$url/__admin/rate-limit" -d '{"paused":false}' >/dev/null
      sleep 5 # a fresh window
      for format in csv xlsx; do
        limited=$(counter rateLimited)
        /usr/bin/time -f "%e %M" -o "$work/time" "$bin/licprov" pull --api-url "$url" --product-id prod-bench \
          -o "$work/all.$format" --progress none --json >"$work/out" 2>"$work/err" \
          || { echo "pull: licprov failed:"; cat "$work/err"; exit 1; }
        read -r seconds rss <"$work/time"
        python3 - "$format" "$seconds" "$rss" "$(( $(counter rateLimited) - limited ))" "$work/out" "$work/all.$format" <<'PY'
import json, os, sys
fmt, seconds, rss, limited, out, path = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6]
s = json.load(open(out))
print(f"pull {fmt:<5} {s['licenses']:>7} licenses  {s['pages']} pages  {s['requests']} requests  {seconds:7.2f} s  "
      f"{s['pages'] / seconds:5.2f} pages/s  {s['licenses'] / seconds:7.1f} licenses/s  429s {limited}  "
      f"peak {rss / 1024:6.1f} MiB  file {os.path.getsize(path) / 1048576:6.1f} MiB")
PY
      done
      # The workbook as a spreadsheet user meets it (openpyxl): typed cells, the header frozen.
      python3 scripts/check-xlsx.py "$work/all.xlsx" | sed 's/^/          /'
      ;;
    customers)
      python3 - "$work/orders.csv" <<'PY'
import sys
with open(sys.argv[1], "w") as out:
    out.write("order_id,productId,email,firstName\n")
    for i in range(200):
        out.write(f"ORD-{i:05d},prod-bench,customer{i % 100}@example.com,Name{i % 100}\n")
PY
      for existing in 0 50; do
        for tool in licprov importer; do
          start_emulator --latency-ms 50 --jitter-ms 100
          for i in $(seq 0 $((existing - 1))); do
            curl -s -X POST "$url/v3/users" -H "Authorization: Bearer bench-token" -H 'Content-Type: application/json' \
              -d "{\"email\":\"customer$i@example.com\",\"firstName\":\"Existing\",\"password\":\"an-old-password\"}" >/dev/null
          done
          [ "$existing" -gt 0 ] && sleep 5.2   # the seeding's window passes
          before=$(counter requests); limited_before=$(counter rateLimited)
          rm -f "$work"/orders.csv.*
          start_time=$(date +%s.%N)
          if [ "$tool" = licprov ]; then
            "$bin/licprov" run "$work/orders.csv" --api-url "$url" --id-column order_id --log-level error --progress none >"$work/out" 2>"$work/err" \
              || { echo "customers: licprov failed:"; cat "$work/err" "$work/out"; exit 1; }
          else
            python3 scripts/importer-baseline.py "$url" bench-token "$work/orders.csv" >"$work/out"
          fi
          end_time=$(date +%s.%N)
          python3 - "$tool" "$existing" "$start_time" "$end_time" "$(( $(counter requests) - before ))" "$(( $(counter rateLimited) - limited_before ))" "$(counter licensesCreated)" <<'PY'
import sys
tool, existing, start, end, requests, limited, created = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7])
seconds = end - start
print(f"customers {tool:<9} 200 orders, 100 customers ({existing} existing): {requests} requests "
      f"({requests / 200:.2f} per license), {seconds:6.1f} s, {created / seconds:5.2f} licenses/s, created {created}, 429s {limited}")
PY
        done
      done
      ;;
    window)
      # One table: how the server counts × noise on X-Rate-Limit-Reset × latency, 500 plain
      # licenses each, default flags beside the fixed rate (--window-limit 0), a fresh emulator each.
      python3 scripts/gen-orders.py csv 500 "$work/orders.csv" --no-customers
      printf '%-28s %6s %10s   %-22s %-22s\n' "server counts" "noise" "latency" "default: 429s  lic/s" "--window-limit 0"
      for style in grid first-request first-request-grid-reported; do
        for noise in 0 50; do
          for latency in "50 100" "150 300"; do
            set -- $latency
            cells=()
            for mode in following fixed; do
              start_emulator --latency-ms "$1" --jitter-ms "$2" --rate-window-style "$style" --rate-reset-noise-ms "$noise"
              flags=(--progress none); [ "$mode" = fixed ] && flags+=(--window-limit 0)
              rm -f "$work"/orders.csv.*
              start_time=$(date +%s.%N)
              "$bin/licprov" run "$work/orders.csv" --api-url "$url" --id-column order_id --log-level error "${flags[@]}" \
                >"$work/out" 2>"$work/err" || { echo "window: licprov failed:"; cat "$work/err" "$work/out"; exit 1; }
              end_time=$(date +%s.%N)
              cells+=("$(python3 -c "import sys; s, e, c, l = map(float, sys.argv[1:]); print(f'{int(l):>4} {c / (e - s):8.2f}')" \
                "$start_time" "$end_time" "$(counter licensesCreated)" "$(counter rateLimited)")")
            done
            printf '%-28s %4s ms %4s±%-4s ms   %-22s %-22s\n' "$style" "$noise" "$(( $1 + $2 / 2 ))" "$(( $2 / 2 ))" "${cells[0]}" "${cells[1]}"
          done
        done
      done
      ;;
    shared)
      python3 scripts/gen-orders.py csv 500 "$work/orders.csv" --no-customers
      python3 scripts/gen-orders.py csv 250 "$work/second.csv" --no-customers
      start_emulator --latency-ms 50 --jitter-ms 100
      rm -f "$work"/orders.csv.* "$work"/second.csv.*
      start_time=$(date +%s.%N)
      "$bin/licprov" run "$work/second.csv" --api-url "$url" --id-column order_id --log-level error --progress none --json \
        >"$work/second.out" 2>"$work/second.err" &
      second_pid=$!
      "$bin/licprov" run "$work/orders.csv" --api-url "$url" --id-column order_id --log-level error --progress none --json \
        >"$work/first.out" 2>"$work/first.err" && first_status=0 || first_status=$?
      first_end=$(date +%s.%N)
      wait "$second_pid" && second_status=0 || second_status=$?
      second_end=$(date +%s.%N)
      python3 - "$start_time" "$first_end" "$second_end" "$first_status" "$second_status" "$work/first.out" "$work/second.out" \
        "$(counter licensesCreated)" "$(counter rateLimited)" <<'PY'
import json, sys
start, first_end, second_end = map(float, sys.argv[1:4])
statuses = int(sys.argv[4]), int(sys.argv[5])
summaries = [json.load(open(path)) for path in sys.argv[6:8]]
created, limited = int(sys.argv[8]), int(sys.argv[9])
for name, rows, end, status, summary in (("first", 500, first_end, statuses[0], summaries[0]), ("second", 250, second_end, statuses[1], summaries[1])):
    print(f"shared    {name:<6} {rows} licenses: exit {status}, created {summary['created']}, failed {summary['failed']}, "
          f"429s {summary['tooManyRequests']}, {end - start:6.1f} s, {rows / (end - start):5.2f} licenses/s")
print(f"shared    together: {created} licenses created of 750, {limited} 429s, {created / (max(first_end, second_end) - start):5.2f} licenses/s")
PY
      ;;
    nightly)
      python3 scripts/gen-orders.py csv 300300 "$work/all.csv"
      head -n 300001 "$work/all.csv" >"$work/orders.csv"
      start_emulator --no-rate-limit
      run_licprov day1 300000 --rate 0 --concurrency 64
      nightly_day2 "nightly   300,000 done + 300 new (5,000 customers)"
      ;;
    upgrade)
      # The nightly file's day 1 written by an earlier build (BENCH_OLD_BIN: its journal schema),
      # then opened by this one: the migration alone (`status` on a copy), and day 2 end to end.
      : "${BENCH_OLD_BIN:?upgrade needs BENCH_OLD_BIN=DIR, the folder of an earlier licprov}"
      python3 scripts/gen-orders.py csv 300300 "$work/all.csv"
      head -n 300001 "$work/all.csv" >"$work/orders.csv"
      start_emulator --no-rate-limit
      "$BENCH_OLD_BIN/licprov" run "$work/orders.csv" --api-url "$url" --id-column order_id --rate 0 --concurrency 64 \
        --log-level error --progress none >/dev/null 2>"$work/err" || { echo "upgrade: day 1 failed:"; cat "$work/err"; exit 1; }
      cp "$work/orders.csv.licprov.sqlite" "$work/copy.licprov.sqlite"
      /usr/bin/time -f "%e %M" -o "$work/time" "$bin/licprov" status --journal "$work/copy.licprov.sqlite" >/dev/null 2>"$work/err" \
        || { echo "upgrade: status failed:"; cat "$work/err"; exit 1; }
      read -r seconds rss <"$work/time"
      /usr/bin/time -f "%e %M" -o "$work/time" "$bin/licprov" status --journal "$work/copy.licprov.sqlite" >/dev/null 2>"$work/err"
      read -r again _ <"$work/time"
      echo "upgrade   300,000 entries: status on the earlier build's journal ${seconds} s (peak $((rss / 1024)) MiB), again once migrated ${again} s: the migration ≈ the difference"
      nightly_day2 "upgrade   day 2 on the migrated journal: 300,000 done + 300 new"
      ;;
    first)
      # A fresh 1,000,000-row file: when do its first request and its first create go?
      python3 scripts/gen-orders.py csv 1000000 "$work/orders.csv"
      rm -f "$work"/orders.csv.*
      start_emulator --no-rate-limit
      start_time=$(date +%s.%N)
      "$bin/licprov" run "$work/orders.csv" --api-url "$url" --id-column order_id --rate 0 --concurrency 64 --log-level error \
        --progress none >"$work/out" 2>"$work/err" &
      licprov_pid=$!
      first_request="" first_create=""
      while kill -0 "$licprov_pid" 2>/dev/null && [ -z "$first_create" ]; do
        now=$(date +%s.%N)
        counts=$(curl -s "$url/__admin/counters" | python3 -c "import json,sys; c = json.load(sys.stdin); print(c['requests'], c['licenseCreateRequests'])")
        set -- $counts
        [ -z "$first_request" ] && [ "$1" -gt 0 ] && first_request=$now
        [ "$2" -gt 0 ] && first_create=$now
        sleep 0.05
      done
      kill -INT "$licprov_pid" 2>/dev/null; wait "$licprov_pid" 2>/dev/null || true
      python3 -c "import sys; s, r, c = map(float, sys.argv[1:]); print(f'first     1,000,000 new rows: first request {r - s:5.2f} s, first create {c - s:5.2f} s after the start')" \
        "$start_time" "${first_request:-0}" "${first_create:-0}"
      ;;
    *) echo "unknown scenario $scenario" >&2; exit 64 ;;
  esac
done

#!/usr/bin/env bash
# Measures `licprov validate` over generated order files: rows/s and peak memory (max RSS).
# Release build, linked with the Swift runtime statically (as a deployed binary would be).
# Each file is validated RUNS times (default 3); the best and the worst run are printed, since
# timings on shared machines vary from run to run. The file is read once before each run, so the
# figure is licprov's, not the disk's (this machine's page cache is reclaimed eagerly, and reading
# from its disk runs at ~65 MB/s: 270,000 NDJSON rows/s at most). A fixed CPU-bound loop is timed
# before and after, to show how fast the machine was at the time.
#
# Scenarios (default: csv ndjson json):
#   csv, ndjson, json  1,000,000 rows (or ROWS), with order ids, then with ids and keys
#   xlsx               100,000 rows (XLSX_ROWS) in a workbook written by openpyxl, strings shared
#   mapped             the same orders twice: in licprov's layout, as a conversion script would
#                      have written them (csv (converted)), and under a reseller's headers, plan
#                      names and dd/MM/yyyy dates, read through a profile (--config: [columns], a
#                      value table, [dates]): what the mapping and the tables cost, as a percentage
#                      of the converted file's best rows/s
#   shopify            100,000 lines (SHOPIFY_LINES) of Shopify's orders export, all its columns,
#                      read with --from shopify and a profile of its SKUs: lines/s (lines grouped
#                      into orders, filled down, ids made of two columns, mugs skipped)
# Usage: scripts/bench-ingest.sh [rows=1000000] [scenario ...]
# BENCH_BIN=DIR uses the licprov in DIR instead of building (to compare two builds on one machine).
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-1000000}
shift || true
scenarios=("$@")
[ ${#scenarios[@]} -eq 0 ] && scenarios=(csv ndjson json)
runs=${RUNS:-3}
if [ -n "${BENCH_BIN:-}" ]; then
  bin=$BENCH_BIN
else
  swift build -c release --static-swift-stdlib --product licprov >&2
  bin=$(swift build -c release --static-swift-stdlib --show-bin-path)
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
measure() { # name file [flags...]
  local name=$1 file=$2
  shift 2
  local flags=("$@")
  [ ${#flags[@]} -eq 0 ] && flags=(--id-column order_id)
  local count=$rows
  case $name in xlsx*) count=$xlsx_rows ;; shopify*) count=$shopify_lines ;; esac
  local size; size=$(du -m "$file" | cut -f1)
  : >"$work/times"
  for _ in $(seq "$runs"); do
    cat "$file" >/dev/null
    /usr/bin/time -f "%e %M" -a -o "$work/times" "$bin/licprov" validate "$file" "${flags[@]}" >"$work/out" || true
  done
  local summary; summary=$(tail -n 1 "$work/out")
  python3 - "$name" "$count" "$size" "$work/times" "$summary" <<'PY'
import sys
name, rows, size, path, summary = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
runs = [tuple(map(float, line.split())) for line in open(path) if line.strip() and not line.startswith("Command")]
best, worst = min(r[0] for r in runs), max(r[0] for r in runs)
peak = max(r[1] for r in runs) / 1024
print(f"{name:<20} {rows:>9} rows {size:>4} MB  best {rows / best:>9,.0f} rows/s ({best:5.2f} s)  worst {rows / worst:>9,.0f} rows/s  "
      f"peak {peak:5.1f} MiB  [{summary.split(': ', 1)[-1]}]")
PY
}
reference() { python3 -c 'import sys, time; t = time.perf_counter(); sum(range(30_000_000)); print(f"machine reference ({sys.argv[1]}): sum(range(3e7)) in python took {time.perf_counter() - t:.2f} s")' "$1"; }
xlsx_rows=${XLSX_ROWS:-100000}
shopify_lines=${SHOPIFY_LINES:-100000}
reference before
for scenario in "${scenarios[@]}"; do
  case $scenario in
    csv|ndjson|json)
      python3 scripts/gen-orders.py "$scenario" "$rows" "$work/orders.$scenario"
      python3 scripts/gen-orders.py "$scenario" "$rows" "$work/keyed.$scenario" --keys
      measure "$scenario (ids)" "$work/orders.$scenario"
      measure "$scenario (ids + keys)" "$work/keyed.$scenario"
      rm -f "$work/orders.$scenario" "$work/keyed.$scenario"
      ;;
    xlsx)
      python3 -c 'import openpyxl' 2>/dev/null || pip install -q openpyxl >&2
      python3 scripts/gen-orders.py xlsx "$xlsx_rows" "$work/orders.xlsx"
      measure "xlsx (ids)" "$work/orders.xlsx"
      rm -f "$work/orders.xlsx"
      ;;
    mapped)
      python3 scripts/gen-orders.py csv "$rows" "$work/converted.csv" --converted
      python3 scripts/gen-orders.py csv "$rows" "$work/reseller.csv" --reseller
      cat >"$work/profile.toml" <<'TOML'
id-column = "order_id"
[columns]
"Order No" = "order_id"
"Product" = "productId"
"Customer Email" = "email"
"First Name" = "firstName"
"Seats" = "allowedActivations"
"Term" = "subscriptionInterval"
"Renewal Date" = "expiresAt"
"Labels" = "tags"
[values.Plan]
Pro = { licenseTemplateId = "tmpl-pro", "metadata.plan" = "pro" }
Standard = { licenseTemplateId = "tmpl-standard", "metadata.plan" = "standard" }
[dates]
format = "dd/MM/yyyy"
TOML
      for _ in 1 2; do  # interleaved: the machine's speed drifts
        measure "csv (converted)" "$work/converted.csv" | tee -a "$work/mapped"
        measure "csv (mapped profile)" "$work/reseller.csv" --config "$work/profile.toml" | tee -a "$work/mapped"
      done
      python3 - "$work/mapped" <<'PY'
import re, sys
best = {}
for line in open(sys.argv[1]):
    name, rate = line[:20].strip(), float(re.search(r"best +([\d,]+) rows/s", line).group(1).replace(",", ""))
    best[name] = max(best.get(name, 0), rate)
cost = 1 - best["csv (mapped profile)"] / best["csv (converted)"]
print(f"mapping and value tables cost {cost:.1%} of the converted file's speed (best of each)")
PY
      rm -f "$work/converted.csv" "$work/reseller.csv" "$work/mapped"
      ;;
    shopify)
      python3 scripts/gen-orders.py shopify "$shopify_lines" "$work/orders_export.csv"
      printf 'from = "shopify"\n[values."Lineitem sku"]\nDESK-PRO-1Y = { productId = "prod-desktop", licenseTemplateId = "tmpl-pro" }\nSERVER-1Y = { productId = "prod-server" }\n' >"$work/shopify.toml"
      measure "shopify (lines)" "$work/orders_export.csv" --config "$work/shopify.toml"
      rm -f "$work/orders_export.csv"
      ;;
    *) echo "unknown scenario $scenario" >&2; exit 64 ;;
  esac
done
reference after

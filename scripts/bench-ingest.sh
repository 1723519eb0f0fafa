#!/usr/bin/env bash
# Measures `licprov validate` over generated order files (release build): rows/s and peak
# memory (max RSS). Usage: scripts/bench-ingest.sh [rows=1000000]
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-1000000}
swift build -c release --product licprov >&2
bin=$(swift build -c release --show-bin-path)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
measure() { # name file [flags...]
  local name=$1 file=$2; shift 2
  local size; size=$(du -m "$file" | cut -f1)
  /usr/bin/time -f "%e %M" -o "$work/time" "$bin/licprov" validate "$file" --id-column order_id "$@" >"$work/out" || true
  read -r seconds kb <"$work/time"
  local summary; summary=$(tail -n 1 "$work/out")
  python3 - "$name" "$rows" "$seconds" "$kb" "$size" "$summary" <<'PY'
import sys
name, rows, seconds, kb, size, summary = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6]
print(f"{name:<22} {rows:>9} rows  {size:>4} MB  {seconds:6.2f} s  {rows / max(seconds, 1e-9):>10,.0f} rows/s  peak {kb / 1024:6.1f} MB   [{summary.split(': ', 1)[-1]}]")
PY
}
for format in csv ndjson json; do
  python3 scripts/gen-orders.py "$format" "$rows" "$work/orders.$format"
  python3 scripts/gen-orders.py "$format" "$rows" "$work/keyed.$format" --keys
  measure "$format (ids)" "$work/orders.$format"
  measure "$format (ids + keys)" "$work/keyed.$format"
  rm -f "$work/orders.$format" "$work/keyed.$format"
done

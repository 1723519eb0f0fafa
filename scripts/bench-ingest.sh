#!/usr/bin/env bash
# Measures `licprov validate` over generated order files: rows/s and peak memory (max RSS).
# Release build, linked with the Swift runtime statically (as a deployed binary would be).
# Each file is validated RUNS times (default 3); the best and the worst run are printed, since
# timings on shared machines vary from run to run. The file is read once before each run, so the
# figure is licprov's, not the disk's (this machine's page cache is reclaimed eagerly, and reading
# from its disk runs at ~65 MB/s: 270,000 NDJSON rows/s at most). A fixed CPU-bound loop is timed
# before and after, to show how fast the machine was at the time.
# Usage: scripts/bench-ingest.sh [rows=1000000]
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-1000000}
runs=${RUNS:-3}
swift build -c release --static-swift-stdlib --product licprov >&2
bin=$(swift build -c release --static-swift-stdlib --show-bin-path)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
measure() { # name file
  local name=$1 file=$2
  local size; size=$(du -m "$file" | cut -f1)
  : >"$work/times"
  for _ in $(seq "$runs"); do
    cat "$file" >/dev/null
    /usr/bin/time -f "%e %M" -a -o "$work/times" "$bin/licprov" validate "$file" --id-column order_id >"$work/out" || true
  done
  local summary; summary=$(tail -n 1 "$work/out")
  python3 - "$name" "$rows" "$size" "$work/times" "$summary" <<'PY'
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
reference before
for format in csv ndjson json; do
  python3 scripts/gen-orders.py "$format" "$rows" "$work/orders.$format"
  python3 scripts/gen-orders.py "$format" "$rows" "$work/keyed.$format" --keys
  measure "$format (ids)" "$work/orders.$format"
  measure "$format (ids + keys)" "$work/keyed.$format"
  rm -f "$work/orders.$format" "$work/keyed.$format"
done
reference after

#!/usr/bin/env bash
# Exactly-once under faults and kill -9. Starts the emulator with 5 % 500s, 5 % resets before
# processing, 5 % lost responses, 2 % 503s with Retry-After and latency jitter; provisions a
# generated file with licprov, killing it with SIGKILL at KILLS random moments and restarting it
# each time, then reruns it until it finishes. Then compares the emulator's licenses with the
# journal and the results file and prints
#
#   rows R, licenses L, duplicates D, missing M, orphans O, results-keys-mismatch K
#
# (duplicates: a marker on more than one license; missing: a row with no license; orphans: a
# license whose marker no row has; mismatch: a results key that is not the emulator's key).
# Exits 1 when any of D, M, O, K is not zero.
#
# Usage: scripts/chaos.sh [rows=2000] [kills=10]    (SEED=N for other random moments)
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-2000}
kills=${2:-10}
seed=${SEED:-$RANDOM}
swift build -c release --product licprov >&2
swift build -c release --product cryptlex-emulator >&2
bin=$(swift build -c release --show-bin-path)
work=$(mktemp -d)
emulator=""
trap '[ -n "$emulator" ] && kill "$emulator" 2>/dev/null; rm -rf "$work"' EXIT
export CRYPTLEX_ACCESS_TOKEN=chaos-token

"$bin/cryptlex-emulator" --port 0 --token chaos-token --no-rate-limit --seed "$seed" \
  --fault 500=0.05 --fault reset=0.05 --fault lost-response=0.05 --fault 503=0.02 --retry-after 1 \
  --latency-ms 5 --jitter-ms 40 --log-level error >"$work/emulator.out" 2>"$work/emulator.err" &
emulator=$!
for _ in $(seq 100); do grep -q listening "$work/emulator.out" 2>/dev/null && break; sleep 0.05; done
url=$(sed -n 's/^listening on //p' "$work/emulator.out")
python3 scripts/gen-orders.py csv "$rows" "$work/orders.csv" --no-customers
run=("$bin/licprov" run "$work/orders.csv" --id-column order_id --api-url "$url" --rate 0 --concurrency 16
     --reconcile-delay 0.2 --retry-base 0.05 --retry-cap 1 --log-level critical)
echo "chaos: emulator $url (seed $seed), $rows rows, $kills kills" >&2

RANDOM=$seed
for kill in $(seq "$kills"); do
  "${run[@]}" >"$work/out" 2>&1 &
  pid=$!
  sleep "0.$(printf '%03d' $((RANDOM % 1000)))"
  if kill -9 "$pid" 2>/dev/null; then
    wait "$pid" 2>/dev/null || true
    echo "  kill $kill: SIGKILL after $(curl -s "$url/__admin/counters" | python3 -c 'import json,sys; print(json.load(sys.stdin)["licensesCreated"])') licenses" >&2
  else
    wait "$pid" 2>/dev/null || true
    echo "  kill $kill: the run had already finished" >&2
  fi
done
for attempt in $(seq 20); do
  if "${run[@]}" >"$work/out" 2>"$work/err"; then break; fi
  echo "  rerun $attempt: exit $? ($(sed -n 1p "$work/out"))" >&2
done
cat "$work/out" >&2

curl -s "$url/__admin/licenses" >"$work/licenses.json"
python3 - "$work/licenses.json" "$work/orders.csv.licprov.sqlite" "$work/orders.csv.results.csv" "$rows" <<'PY'
import csv, json, sqlite3, sys
licenses = json.load(open(sys.argv[1]))
journal = sqlite3.connect(sys.argv[2])
rows = int(sys.argv[4])
marker_of_row = dict(journal.execute("SELECT rowID, marker FROM license"))
by_marker = {}
for license in licenses:
    for entry in license.get("metadata", []):
        if entry["key"] == "licprov_request":
            by_marker.setdefault(entry["value"], []).append(license)
duplicates = sum(len(found) - 1 for found in by_marker.values() if len(found) > 1)
missing = sum(1 for marker in marker_of_row.values() if marker not in by_marker) + (rows - len(marker_of_row))
orphans = sum(len(found) for marker, found in by_marker.items() if marker not in set(marker_of_row.values()))
orphans += sum(1 for license in licenses if not any(e["key"] == "licprov_request" for e in license.get("metadata", [])))
with open(sys.argv[3], newline="") as f:
    results = list(csv.DictReader(f))
key_of_marker = {marker: found[0]["key"] for marker, found in by_marker.items()}
mismatch = 0
for line in results:
    expected = key_of_marker.get(marker_of_row.get(line["row_id"]))
    if line["status"] not in ("created", "recovered") or line["license_key"] != expected:
        mismatch += 1
print(f"rows {rows}, licenses {len(licenses)}, duplicates {duplicates}, missing {missing}, orphans {orphans}, results-keys-mismatch {mismatch}")
sys.exit(1 if duplicates or missing or orphans or mismatch else 0)
PY

#!/usr/bin/env bash
# Writes orders.csv.licprov.sqlite with the licprov of commit b48e180 (journal schema v8, the
# release before typed operations): BIN=/path/to/that/build's/bin ./generate.sh
# Do not rerun it with a newer licprov: the point is a journal an earlier build wrote.
set -euo pipefail
cd "$(dirname "$0")"
: "${BIN:?BIN must name a folder with licprov and cryptlex-emulator of commit b48e180}"
export CRYPTLEX_ACCESS_TOKEN=fixture-token CRYPTLEX_EMULATOR_TOKEN=fixture-token
rm -f orders.csv.licprov.sqlite* orders.csv.results.csv phase-1.csv*

# Phase 1: O-1 and O-2 created against an emulator (customers, an organization, resolved).
head -3 orders.csv > phase-1.csv
sed -i 's/^O-2,prod-1,5,/O-2,prod-1,2,/' phase-1.csv
"$BIN/cryptlex-emulator" --no-rate-limit --seed 8 > emulator.out 2>/dev/null &
emulator=$!
trap 'kill $emulator 2>/dev/null || true' EXIT
for _ in $(seq 50); do grep -q listening emulator.out && break; sleep 0.1; done
url=$(sed -n 's/^listening on //p' emulator.out)
"$BIN/licprov" run phase-1.csv --id-column order_id --api-url "$url" --rate 0 >/dev/null
mv phase-1.csv.licprov.sqlite orders.csv.licprov.sqlite
kill $emulator; rm -f emulator.out phase-1.csv*

# Phase 2: the whole file with the API unreachable: O-2's row is edited (allowedActivations 2 → 5,
# kept as its edited body), O-3, O-4 (two licenses) and the changes C-1, C-2 are registered pending.
"$BIN/licprov" run orders.csv --id-column order_id --api-url http://127.0.0.1:9 --rate 0 --max-attempts 1 >/dev/null 2>&1 || test $? -eq 69

# O-3 as a kill right after its request went out leaves it (a sent create, its answer never read).
sqlite3 orders.csv.licprov.sqlite "UPDATE license SET state = 'inFlight', attempts = 1, maybeSent = 1 WHERE rowID = 'O-3'"
sqlite3 orders.csv.licprov.sqlite "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
rm -f orders.csv.results.csv orders.csv.licprov.sqlite-wal orders.csv.licprov.sqlite-shm orders.csv.licprov.sqlite.lock
sqlite3 orders.csv.licprov.sqlite "SELECT rowID, unit, state, marker FROM license ORDER BY id"

#!/usr/bin/env bash
# The demo batch: starts a local Cryptlex emulator, validates the sample orders with licprov,
# and shows the emulator answering as Cryptlex would (a license created and found by its
# marker, a schema error, the rate-limit headers). Everything runs on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v curl >/dev/null; then
  echo "installing curl ..." >&2
  (apt-get update -qq && apt-get install -y -qq curl) >/dev/null
fi
swift build --product licprov >&2
swift build --product cryptlex-emulator >&2
bin=$(swift build --show-bin-path)
work=$(mktemp -d)
trap 'kill "$emulator" 2>/dev/null || true; rm -rf "$work"' EXIT

"$bin/cryptlex-emulator" --port 0 --token demo-token --product prod-desktop --product prod-server >"$work/emulator.out" 2>"$work/emulator.err" &
emulator=$!
for _ in $(seq 100); do grep -q listening "$work/emulator.out" 2>/dev/null && break; sleep 0.1; done
url=$(sed -n 's/^listening on //p' "$work/emulator.out")
echo "== emulator: $url"

echo "== licprov validate: the sample orders"
"$bin/licprov" validate samples/reseller-orders.csv --id-column order_id
"$bin/licprov" validate samples/migration.csv --id-column order_id --product-id prod-desktop
"$bin/licprov" validate samples/shop-export.json --id-column order_id
"$bin/licprov" validate samples/nightly.ndjson --id-column order_id

echo "== licprov validate: a file with mistakes (exit code 65 expected)"
printf 'order_id,productId,allowedActivations,expiresAt,type\nA-1,prod-desktop,1.5,2027-01-01,node-locked\nA-2,prod-desktop,2,31/12/2027,floating\n' >"$work/bad.csv"
"$bin/licprov" validate "$work/bad.csv" --id-column order_id && status=0 || status=$?
echo "exit code: $status"

echo "== the emulator, as licprov's client will see it"
curl -s -i -X POST "$url/v3/licenses" -H 'Authorization: Bearer demo-token' -H 'Content-Type: application/json' \
  -d '{"productId":"prod-desktop","allowedActivations":2,"metadata":[{"key":"licprov_request","value":"demo-1"}]}' | sed -n '1,4p'
echo
curl -s "$url/v3/licenses?metadata.value%5Beq%5D=demo-1" -H 'Authorization: Bearer demo-token'; echo
curl -s -X POST "$url/v3/licenses" -H 'Authorization: Bearer demo-token' -d '{"productId":"prod-desktop","serverSyncInterval":60}'; echo
curl -s "$url/__admin/counters"; echo

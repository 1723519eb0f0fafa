#!/usr/bin/env bash
# The demo batch: starts a local Cryptlex emulator that loses some responses, validates the
# sample orders, provisions samples/orders.csv with licprov run (lost responses are recovered by
# lookup, not duplicated), interrupts a second batch with Ctrl-C and resumes it, and shows status,
# export and the emulator's view. Everything runs on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v curl >/dev/null; then
  echo "installing curl ..." >&2
  (apt-get update -qq && apt-get install -y -qq curl) >/dev/null
fi
scripts/need-system-libraries.sh
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

echo "== licprov run: samples/orders.csv (11 licenses; the emulator loses the answers to the first 3 creates)"
cp samples/orders.csv "$work/orders.csv"
export CRYPTLEX_ACCESS_TOKEN=demo-token
curl -s -X PUT "$url/__admin/faults" -d '{"rules":[{"fault":"lost-response","count":3,"method":"POST"}]}' >/dev/null
"$bin/licprov" run "$work/orders.csv" --id-column order_id --api-url "$url"
echo "-- the results file:"
cat "$work/orders.csv.results.csv"
echo "-- the emulator holds $(curl -s "$url/__admin/licenses" | grep -o '"licprov_request"' | wc -l) licenses with a marker"
echo "== the same command again: nothing is sent"
"$bin/licprov" run "$work/orders.csv" --id-column order_id --api-url "$url"
"$bin/licprov" status "$work/orders.csv"

echo "== the shop's nightly export: renewals, a refund, an upgrade, a chargeback, an extension and a new order"
echo "   (samples/nightly-changes.csv; each row names its license by the order id licprov kept on it)"
"$bin/licprov" validate samples/nightly-changes.csv --id-column event_id --target-metadata order_id
echo "-- the emulator loses the answer to the first renewal (it is applied): licprov reads the expiry and does not renew twice"
curl -s -X PUT "$url/__admin/faults" -d '{"rules":[{"fault":"lost-response","count":1,"path":"/v3/licenses/*/renew"}]}' >/dev/null
"$bin/licprov" run samples/nightly-changes.csv --id-column event_id --target-metadata order_id --api-url "$url" \
  --journal "$work/nightly.sqlite" --results "$work/nightly.results.csv" && status=0 || status=$?
echo "exit code: $status (1: REF-9008's order B-2002 has two licenses, so the row is a conflict; name one by licenseId or key)"
cat "$work/nightly.results.csv"
"$bin/licprov" status --journal "$work/nightly.sqlite"
echo "-- renewals applied per license: $(curl -s "$url/__admin/changes")"

echo "== licprov audit: the account against the first batch's journal"
echo "   (B-2008 was upgraded by the nightly file, which this journal does not know: changed; then a duplicate planted by hand)"
marker=$(curl -s "$url/__admin/licenses" | python3 -c '
import json, sys
for license in json.load(sys.stdin):
    entries = {m["key"]: m["value"] for m in license.get("metadata", [])}
    if entries.get("order_id") == "B-2001" and "licprov_request" in entries: print(entries["licprov_request"]); break')
if [ -n "$marker" ]; then
  curl -s -X POST "$url/v3/licenses" -H 'Authorization: Bearer demo-token' -H 'Content-Type: application/json' \
    -d "{\"productId\":\"prod-desktop\",\"metadata\":[{\"key\":\"licprov_request\",\"value\":\"$marker\"}]}" >/dev/null
  "$bin/licprov" audit "$work/orders.csv" --api-url "$url" -o "$work/audit.csv" && status=0 || status=$?
  echo "exit code: $status"
  grep -v '^ok,' "$work/audit.csv"
fi
echo "== licprov undo: the nightly changes taken back (a dry run first, then --yes)"
"$bin/licprov" undo --journal "$work/nightly.sqlite" --api-url "$url" --dry-run
"$bin/licprov" undo --journal "$work/nightly.sqlite" --api-url "$url" --yes && status=0 || status=$?
echo "exit code: $status"

echo "== customers and a migration: the reseller sheet (8 licenses, 5 customers) and Cryptlex's importer layout"
"$bin/licprov" run samples/reseller-orders.csv --id-column order_id --api-url "$url" \
  --journal "$work/reseller.sqlite" --results "$work/reseller.results.csv"
"$bin/licprov" run samples/migration.csv --id-column order_id --product-id prod-desktop --api-url "$url" \
  --journal "$work/migration.sqlite" --results "$work/migration.results.csv"
echo "-- Cryptlex's own sample importer file writes createdAt without a zone: refused (65) unless --time-zone says which"
"$bin/licprov" validate samples/cryptlex-importer.csv --id-column order_id --product-id prod-desktop && status=0 || status=$?
echo "exit code: $status"
"$bin/licprov" run samples/cryptlex-importer.csv --id-column order_id --product-id prod-desktop --time-zone UTC --api-url "$url" \
  --journal "$work/importer.sqlite" --results "$work/importer.results.csv"
echo "-- the emulator now has $(curl -s "$url/__admin/users" | grep -o '"email"' | wc -l) users"

echo "== two resellers' end customers: organizations and resellers found or created once (samples/reseller-sheet.csv)"
echo "   (the emulator loses the answers to the first organization and the first reseller it creates: looked up by name, not made twice)"
"$bin/licprov" validate samples/reseller-sheet.csv --id-column order_id
curl -s -X PUT "$url/__admin/faults" -d '{"rules":[{"fault":"lost-response","count":1,"method":"POST","path":"/v3/organizations"},{"fault":"lost-response","count":1,"method":"POST","path":"/v3/resellers"}]}' >/dev/null
"$bin/licprov" run samples/reseller-sheet.csv --id-column order_id --api-url "$url" \
  --journal "$work/resellers.sqlite" --results "$work/resellers.results.csv" --reconcile-delay 1
curl -s -X PUT "$url/__admin/faults" -d '{"rules":[]}' >/dev/null
echo "-- the emulator's organizations, each under its reseller:"
curl -s "$url/__admin/organizations" | python3 -c '
import json, sys
for organization in json.load(sys.stdin):
    print("  %-22s under %s" % (organization["name"], (organization.get("reseller") or {}).get("name", "no reseller")))'
cut -d, -f2,4,11,12 "$work/resellers.results.csv" | head -4
"$bin/licprov" status --journal "$work/resellers.sqlite" | grep -E '^(resellers|organizations|customers):'

echo "== a nightly sync: the shop's export of every order as it is tonight (licprov plan, then apply)"
echo "   (managed: the licenses carrying shop_order on prod-desktop; the demo's other licenses are never read or touched)"
printf 'shop_order,productId,allowedActivations,revoked,email\nS-1,prod-desktop,2,false,ann@shop.example\nS-2,prod-desktop,2,false,bo@shop.example\nS-3,prod-desktop,2,false,cy@shop.example\nS-4,prod-desktop,2,false,di@shop.example\n' >"$work/shop.csv"
"$bin/licprov" apply "$work/shop.csv" --id-column shop_order --api-url "$url" --yes >/dev/null
echo "-- night 1 applied (4 licenses); night 2: S-1 upgraded to 5 seats, S-2 refunded, S-3 given to a new owner, S-4 gone, S-5 new:"
printf 'shop_order,productId,allowedActivations,revoked,email\nS-1,prod-desktop,5,false,ann@shop.example\nS-2,prod-desktop,2,true,bo@shop.example\nS-3,prod-desktop,2,false,eve@shop.example\nS-5,prod-desktop,2,false,fay@shop.example\n' >"$work/shop.csv"
"$bin/licprov" plan "$work/shop.csv" --id-column shop_order --api-url "$url" --prune suspend --max-prune 1 --detailed-exitcode && status=0 || status=$?
echo "exit code: $status (2: changes to make)"
"$bin/licprov" apply "$work/shop.csv" --id-column shop_order --api-url "$url" --prune suspend --max-prune 1 --yes | tail -3
"$bin/licprov" plan "$work/shop.csv" --id-column shop_order --api-url "$url" --prune suspend --max-prune 1 --detailed-exitcode && status=0 || status=$?
echo "exit code: $status (0: the account equals the file)"

echo "== tonight's Shopify export as the shop writes it (samples/shopify-orders.csv; the profile samples/shopify.toml only says which SKUs are licenses)"
echo "   (a line per line item: mugs beside licenses, a pending order, refunded, voided and cancelled ones; the emulator loses the answers to 2 creates)"
cp samples/shopify-orders.csv "$work/orders_export.csv"
"$bin/licprov" validate "$work/orders_export.csv" && status=0 || status=$?
echo "exit code: $status (65: a Shopify export read without --from shopify)"
"$bin/licprov" validate "$work/orders_export.csv" --config samples/shopify.toml
curl -s -X PUT "$url/__admin/faults" -d '{"rules":[{"fault":"lost-response","count":2,"method":"POST","path":"/v3/licenses"}]}' >/dev/null
"$bin/licprov" apply "$work/orders_export.csv" --config samples/shopify.toml --api-url "$url" --reconcile-delay 1 --yes | grep -E "^(plan:|licenses |customers:)"
curl -s -X PUT "$url/__admin/faults" -d '{"rules":[]}' >/dev/null
echo "-- the next night, the same export: nothing to do"
"$bin/licprov" plan "$work/orders_export.csv" --config samples/shopify.toml --api-url "$url" --detailed-exitcode | tail -1 && status=0 || status=$?
echo "exit code: $status (0: the account equals the export)"

echo "== a reseller's Excel sheet as they send it: refused (65) as it is, provisioned through its profile (samples/reseller-acme.toml)"
cp samples/reseller-acme.xlsx "$work/acme.xlsx"
"$bin/licprov" validate "$work/acme.xlsx" --product-id prod-desktop --max-problems 3 && status=0 || status=$?
echo "exit code: $status"
"$bin/licprov" validate "$work/acme.xlsx" --config samples/reseller-acme.toml
"$bin/licprov" run "$work/acme.xlsx" --config samples/reseller-acme.toml --api-url "$url" --results-columns input
echo "-- its results, with the sheet's own columns first:"
head -3 "$work/acme.xlsx.results.csv"

echo "== licprov doctor: what a first run against an account needs to know (the emulator here)"
"$bin/licprov" doctor --api-url "$url" --product-id prod-desktop --write-probe --probe-file "$work/doctor-probe.json" && status=0 || status=$?
echo "exit code: $status"

echo "== Ctrl-C during a 60-license batch, then the same command resumes it (exit 75 first)"
curl -s -X PUT "$url/__admin/faults" -d '{"rules":[],"latencyMilliseconds":50}' >/dev/null
python3 scripts/gen-orders.py csv 60 "$work/batch.csv" --no-customers
sed -i 's/prod-bench/prod-desktop/' "$work/batch.csv"
"$bin/licprov" run "$work/batch.csv" --id-column order_id --api-url "$url" --concurrency 2 &
run=$!
sleep 1.5
kill -INT "$run"
wait "$run" && status=0 || status=$?
echo "exit code: $status"
"$bin/licprov" run "$work/batch.csv" --id-column order_id --api-url "$url"
"$bin/licprov" export "$work/batch.csv" | head -4

echo "== licprov pull: the account as a file — one organization's licenses, suspended from the pulled file, then moved"
"$bin/licprov" pull --api-url "$url" --product-id prod-desktop --where "organization.name=Acme GmbH" -o "$work/acme-licenses.csv" --progress none
cut -d, -f1-6 "$work/acme-licenses.csv" | head -3
"$bin/licprov" run "$work/acme-licenses.csv" --action suspend --api-url "$url" --progress none | head -1
echo "-- undone: the same licenses unsuspended"
"$bin/licprov" undo "$work/acme-licenses.csv" --api-url "$url" --yes | head -1
echo "-- the whole product moved to another account (a second emulator), keys and customers kept"
"$bin/licprov" pull --api-url "$url" --product-id prod-desktop --format cryptlex -o "$work/account.json" --progress none
"$bin/cryptlex-emulator" --port 0 --token demo-token --product prod-eu >"$work/target.out" 2>"$work/target.err" &
target=$!
trap 'kill "$emulator" "$target" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 100); do grep -q listening "$work/target.out" 2>/dev/null && break; sleep 0.1; done
target_url=$(sed -n 's/^listening on //p' "$work/target.out")
printf '[values.productId]\nprod-desktop = { productId = "prod-eu" }\n' >"$work/move.toml"
"$bin/licprov" run "$work/account.json" --from cryptlex --config "$work/move.toml" --api-url "$target_url" --progress none | head -1
echo "-- keys in the old account and the new: $(curl -s "$url/__admin/licenses" | python3 -c 'import json,sys; print(len({l["key"] for l in json.load(sys.stdin) if l["productId"]=="prod-desktop"}))') and $(curl -s "$target_url/__admin/licenses" | python3 -c 'import json,sys; print(len({l["key"] for l in json.load(sys.stdin)}))')"

echo "== the emulator, as licprov's client sees it"
curl -s -i -X POST "$url/v3/licenses" -H 'Authorization: Bearer demo-token' -H 'Content-Type: application/json' \
  -d '{"productId":"prod-desktop","allowedActivations":2,"metadata":[{"key":"licprov_request","value":"demo-1"}]}' | sed -n '1,4p'
echo
curl -s "$url/v3/licenses?metadata.value%5Beq%5D=demo-1" -H 'Authorization: Bearer demo-token'; echo
curl -s -X POST "$url/v3/licenses" -H 'Authorization: Bearer demo-token' -d '{"productId":"prod-desktop","serverSyncInterval":60}'; echo
curl -s "$url/__admin/counters"; echo

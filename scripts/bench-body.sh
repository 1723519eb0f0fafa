#!/usr/bin/env bash
# Prints, per license, the CPU cost of turning a journaled license into the bytes sent:
#   - the marker and the customer's user id spliced into the body encoded at planning (what licprov does);
#   - the typed LicenseRequest encoded at send time, with JSONEncoder and with licprov's own writer
#     (LicenseRequest.jsonBody, which writes the same bytes);
#   - the request decoded from the journal's bytes, then encoded (what "typed until the wire" costs
#     when the work items are loaded from the journal, as they are to keep memory flat).
# Built with swiftc -O from the wire types (Sources/CryptlexModels) and scripts/bench-body/main.swift.
set -euo pipefail
cd "$(dirname "$0")/.."
out=.build-bench-body
mkdir -p "$out"
swiftc -O -module-name BenchBody -package-name BenchBody Sources/CryptlexModels/{LicenseRequest,LicenseRequest+JSON,LicenseEnums,CryptlexTimestamp,LicenseOperation,LicenseAction,LicenseSnapshot,License,JSONAny+Fields}.swift scripts/bench-body/main.swift -o "$out/bench-body"
"$out/bench-body"

#!/usr/bin/env bash
# Coverage-guided fuzzing with libFuzzer: builds one target and runs it for SECONDS.
#
#   scripts/fuzz.sh csv|json|ndjson|emulator SECONDS [libFuzzer flags…]
#
# csv, json, ndjson: the order-file readers with mapping and validation (Sources/Ingestion, and the
# wire types of Sources/CryptlexAPI); the first byte of an input picks the options (id column,
# unknown columns, a default product, --time-zone, the CSV delimiter). emulator: the emulator's
# request-body parser, schema check and query parsing. Oracles beyond the sanitizers (address,
# fuzzer) are in Fuzz/Targets.
#
# The sources are compiled with swiftc into one instrumented module per target (no SwiftPM, so
# none of the network packages are rebuilt with instrumentation): an empty module named
# CryptlexAPI satisfies Ingestion's imports. The seed corpus is Fuzz/corpus/TARGET (committed);
# what libFuzzer finds goes to .build-fuzz/corpus/TARGET, crashes to .build-fuzz/crashes/.
# Every crash found becomes a regression test under Tests/.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:?usage: scripts/fuzz.sh csv|json|ndjson|emulator SECONDS}
seconds=${2:?usage: scripts/fuzz.sh TARGET SECONDS}
shift 2
out=.build-fuzz
mkdir -p "$out/modules" "$out/corpus/$target" "$out/crashes"
flags=(-O -g -parse-as-library -sanitize=fuzzer,address -package-name licprov -suppress-warnings)

case "$target" in
  csv|json|ndjson)
    echo "" > "$out/empty.swift"
    swiftc -parse-as-library -module-name CryptlexAPI -emit-module -emit-module-path "$out/modules/CryptlexAPI.swiftmodule" "$out/empty.swift"
    sources=(Sources/CryptlexAPI/{APIError,CryptlexBaseURL,CryptlexTimestamp,HTTPTransport,License,LicenseEnums,LicenseQuery,LicenseRequest,OutcomeClass,RateLimitStatus,TransportError,UserRequest}.swift
             Sources/Ingestion/*.swift Fuzz/Targets/FuzzFile.swift Fuzz/Targets/IngestFuzz.swift "Fuzz/Targets/entry-$target.swift")
    ;;
  emulator)
    sources=(Sources/CryptlexEmulator/{JSONValue,JSONValue+Bytes,SchemaValidator,RFC3339,EmulatorError,ContinuousClockReference,LicenseFilter,TextCondition,EmulatorStore,EmulatorCounters,FaultInjector,Fault}.swift
             Fuzz/Targets/BundleShim.swift Fuzz/Targets/entry-emulator.swift)
    ;;
  *) echo "unknown target $target: csv, json, ndjson or emulator" >&2; exit 64 ;;
esac

echo "== building fuzz-$target" >&2
swiftc "${flags[@]}" -module-name "Fuzz_$target" -I "$out/modules" "${sources[@]}" -o "$out/fuzz-$target"
echo "== fuzzing $target for $seconds s" >&2
export LICPROV_SCHEMA=$PWD/Sources/CryptlexEmulator/Resources/cryptlex-v3-subset.json
ASAN_OPTIONS=detect_leaks=0 "$out/fuzz-$target" -max_total_time="$seconds" -print_final_stats=1 -timeout=10 -rss_limit_mb=4096 \
  -artifact_prefix="$out/crashes/$target-" "$@" "$out/corpus/$target" "Fuzz/corpus/$target"

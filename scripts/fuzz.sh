#!/usr/bin/env bash
# Coverage-guided fuzzing with libFuzzer: builds one target and runs it for SECONDS.
#
#   scripts/fuzz.sh csv|json|ndjson|xlsx|emulator SECONDS [libFuzzer flags…]
#   scripts/fuzz.sh all SECONDS        every target in turn (CI's smoke run: 10 s each, unoptimised)
#
# csv, json, ndjson: the order-file readers with mapping and validation (Sources/Ingestion, and the
# wire types of Sources/CryptlexModels); the first byte of an input picks the options (id column,
# unknown columns, a default product, --time-zone, the CSV delimiter). xlsx: the input is the
# sheet's XML and, after a NUL byte, the shared strings, zipped into a workbook with fixed other
# parts (Fuzz/Targets/entry-xlsx.swift). emulator: the emulator's request-body parser, schema check
# and query parsing. Oracles beyond the sanitizers (address, fuzzer) are in Fuzz/Targets.
#
# The sources are compiled with swiftc into one instrumented module per target (no SwiftPM, so none
# of the network packages are rebuilt with instrumentation). Which files go in is a rule, not a
# list: every file of the modules a target needs that imports no networking or logging package;
# empty modules stand in for the module names they import (CryptlexModels, FileFormats,
# ZIPFoundation), since everything is one module here. A file the rule takes that needs more fails
# the build, so the harness cannot rot silently: CI builds and runs every target for 10 s.
# The seed corpus is Fuzz/corpus/TARGET (committed); what libFuzzer finds goes to
# .build-fuzz/corpus/TARGET, crashes to .build-fuzz/crashes/. Every crash becomes a regression test.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:?usage: scripts/fuzz.sh csv|json|ndjson|xlsx|emulator|all SECONDS}
seconds=${2:?usage: scripts/fuzz.sh TARGET SECONDS}
shift 2
if [ "$target" = all ]; then
  for each in csv json ndjson xlsx emulator; do "$0" "$each" "$seconds" "$@"; done
  exit 0
fi
out=.build-fuzz
mkdir -p "$out/modules" "$out/corpus/$target" "$out/crashes"
# LICPROV_FUZZ_QUICK=1 (CI's smoke): unoptimised builds — the ingest target in 31 s instead of 91 s
# on two cores, for about half the executions (csv, 10 s: 1,264 against 2,360). The smoke proves each
# harness builds and runs under the sanitizers; a fuzzing campaign wants the optimised build (the default).
if [ "${LICPROV_FUZZ_QUICK:-0}" = 1 ]; then optimize=-Onone suffix=-quick; else optimize=-O suffix=; fi
flags=("$optimize" -g -parse-as-library -sanitize=fuzzer,address -package-name licprov -suppress-warnings)

# The files of these folders that import none of the packages the fuzzers leave out.
pure() {
  grep -L -E '^import (AsyncHTTPClient|NIO[A-Za-z0-9]*|Logging|Hummingbird[A-Za-z]*|HTTPTypes|ServiceLifecycle|ArgumentParser)$' "$@"
}
empty_modules() {
  echo "" > "$out/empty.swift"
  for module in "$@"; do
    swiftc -parse-as-library -module-name "$module" -emit-module -emit-module-path "$out/modules/$module.swiftmodule" "$out/empty.swift"
  done
}

case "$target" in
  csv|json|ndjson|xlsx)
    [ -d .build/checkouts/ZIPFoundation ] || swift package resolve >&2
    zip=.build/checkouts/ZIPFoundation/Sources
    empty_modules CryptlexModels FileFormats ZIPFoundation
    mapfile -t sources < <(pure Sources/FileFormats/*.swift Sources/Ingestion/*.swift Sources/CryptlexModels/*.swift "$zip"/ZIPFoundation/*.swift)
    sources+=(Fuzz/Targets/FuzzFile.swift Fuzz/Targets/IngestFuzz.swift Fuzz/Targets/WorkbookFuzz.swift Fuzz/Targets/entry-ingest.swift)
    flags+=(-I "$zip/CZLib" -Xcc -D_GNU_SOURCE=1)  # as ZIPFoundation's own package builds it (fopencookie)
    binary=ingest  # one binary for the four formats: LICPROV_FUZZ_FORMAT picks
    export LICPROV_FUZZ_FORMAT=$target
    ;;
  emulator)
    mapfile -t sources < <(pure Sources/CryptlexEmulator/*.swift)
    sources+=(Fuzz/Targets/BundleShim.swift Fuzz/Targets/entry-emulator.swift)
    binary=emulator
    ;;
  *) echo "unknown target $target: csv, json, ndjson, xlsx, emulator or all" >&2; exit 64 ;;
esac

# Built again only when a source is newer than the binary.
program=$out/fuzz-$binary$suffix
if [ ! -x "$program" ] || [ -n "$(find "${sources[@]}" scripts/fuzz.sh -newer "$program" 2>/dev/null | head -1)" ]; then
  echo "== building fuzz-$binary$suffix (${#sources[@]} files, $optimize)" >&2
  # The binary takes the time the build started: a source edited while swiftc ran (whose
  # frontend jobs may then have read two versions of it) is newer, so the next run builds again.
  touch "$out/started-$binary$suffix"
  swiftc "${flags[@]}" -module-name "Fuzz_$binary" -I "$out/modules" "${sources[@]}" -o "$program.new"
  touch -r "$out/started-$binary$suffix" "$program.new"
  mv "$program.new" "$program"
fi
echo "== fuzzing $target for $seconds s" >&2
export LICPROV_SCHEMA=$PWD/Sources/CryptlexEmulator/Resources/cryptlex-v3-subset.json
ASAN_OPTIONS=detect_leaks=0 "$program" -max_total_time="$seconds" -print_final_stats=1 -timeout=10 -rss_limit_mb=4096 \
  -artifact_prefix="$out/crashes/$target-" "$@" "$out/corpus/$target" "Fuzz/corpus/$target"

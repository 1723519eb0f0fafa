import Foundation

/// libFuzzer's entry point for the order-file readers, with mapping and validation: one binary
/// for every format, chosen by `LICPROV_FUZZ_FORMAT` (csv, json, ndjson, xlsx; scripts/fuzz.sh sets it).
let fuzzFormat = InputFormat(rawValue: ProcessInfo.processInfo.environment["LICPROV_FUZZ_FORMAT"] ?? "csv") ?? .csv

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    fuzzFormat == .xlsx ? fuzzWorkbook(data, size) : fuzzIngest(data, size, format: fuzzFormat)
}

/// libFuzzer's entry point for the ndjson reader, mapping and validation.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    fuzzIngest(data, size, format: .ndjson)
}

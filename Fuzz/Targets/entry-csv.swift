/// libFuzzer's entry point for the csv reader, mapping and validation.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    fuzzIngest(data, size, format: .csv)
}

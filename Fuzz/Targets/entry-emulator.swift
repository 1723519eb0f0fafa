import Foundation

/// The emulator's request parsing and schema check: the bytes as a request body (parsed, then
/// checked against every request schema of the subset), and as a `GET /v3/licenses` query.
///
/// Oracles: a parsed body serialises and parses back to the same value; validation and query
/// parsing never trap.
let validator: SchemaValidator = {
    let path = ProcessInfo.processInfo.environment["LICPROV_SCHEMA"] ?? "Sources/CryptlexEmulator/Resources/cryptlex-v3-subset.json"
    return try! SchemaValidator(openAPIDocument: Data(contentsOf: URL(fileURLWithPath: path)))
}()

let schemas = ["LicenseRequestModel", "UserRequestModel", "LicenseMetadataRequestModel"]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    if let value = JSONValue.parse(bytes) {
        for schema in schemas { _ = validator.validate(value, against: schema) }
        let again = JSONValue.parse(value.serialized())
        precondition(again == value, "a parsed body does not survive serialising")
    }
    // The same bytes as a query string: name=value pairs split on & and =.
    let text = String(decoding: bytes, as: UTF8.self)
    let query = text.split(separator: "&").map { pair -> (String, String) in
        let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        return (String(parts[0]), parts.count > 1 ? String(parts[1]) : "")
    }
    _ = try? LicenseFilter(query: query)
    _ = RFC3339.parse(text)
    return 0
}

/// The filters `GET /v3/licenses` understands, parsed from its query string.
public struct LicenseFilter: Sendable, Equatable {
    public var key: String?
    public var productID: String?
    public var userID: String?
    public var metadataKey: String?
    public var metadataValue: String?
    public var userEmail: String?
    /// Only licenses created at or after this time (ticks since 1970).
    public var createdAtOrAfter: Int64?
    public var newestFirst = false
    public var page = 1
    public var limit = 10

    /// Parses the query items; throws a message naming the bad parameter.
    init(query: [(String, String)]) throws(EmulatorStore.Rejection) {
        func bad(_ message: String) -> EmulatorStore.Rejection { .init(status: 400, message: message, code: nil) }
        for (name, value) in query {
            switch name {
            case "key[eq]": key = value
            case "productId[eq]": productID = value
            case "userId", "userId[eq]": userID = value
            case "metadata.key[eq]": metadataKey = value
            case "metadata.value[eq]": metadataValue = value
            case "user.email[eq]": userEmail = value
            case "createdAt[gte]":
                guard let ticks = RFC3339.parse(value) else { throw bad("createdAt[gte] must be a date-time.") }
                createdAtOrAfter = ticks
            case "sort":
                switch value {
                case "-createdAt": newestFirst = true
                case "createdAt", "+createdAt": newestFirst = false
                default: throw bad("sort '\(value)' is not supported by the emulator (use createdAt or -createdAt).")
                }
            case "page":
                guard let number = Int(value), number >= 1 else { throw bad("page must be an integer of at least 1.") }
                page = number
            case "limit":
                guard let number = Int(value), (1...100).contains(number) else { throw bad("limit must be an integer from 1 to 100.") }
                limit = number
            default:
                throw bad("The query parameter '\(name)' is not supported by the emulator.")
            }
        }
    }

    func matches(_ license: JSONValue, users: [String: JSONValue]) -> Bool {
        guard let fields = license.objectValue else { return false }
        if let key, fields["key"]?.stringValue != key { return false }
        if let productID, fields["productId"]?.stringValue != productID { return false }
        if let userID, fields["userId"]?.stringValue != userID { return false }
        if let createdAtOrAfter, (fields["createdAt"]?.stringValue.flatMap(RFC3339.parse) ?? 0) < createdAtOrAfter { return false }
        let metadata = fields["metadata"]?.arrayValue?.compactMap(\.objectValue) ?? []
        // Key and value are matched independently, as Cryptlex does not promise they match one entry.
        if let metadataKey, !metadata.contains(where: { $0["key"]?.stringValue == metadataKey }) { return false }
        if let metadataValue, !metadata.contains(where: { $0["value"]?.stringValue == metadataValue }) { return false }
        if let userEmail {
            guard let userID = fields["userId"]?.stringValue,
                  let email = users[userID]?.objectValue?["email"]?.stringValue,
                  email.lowercased() == userEmail.lowercased() else { return false }
        }
        return true
    }
}

/// The filters `GET /v3/licenses` understands, parsed from its query string.
public struct LicenseFilter: Sendable, Equatable {
    /// Conditions on `key`, `productId`, `id`, `metadata.key`, `metadata.value` and `user.email`
    /// (every operator the schema subset declares for each; several combine with AND).
    public var key: [TextCondition] = []
    public var productID: [TextCondition] = []
    public var id: [TextCondition] = []
    public var metadataKey: [TextCondition] = []
    public var metadataValue: [TextCondition] = []
    public var userEmail: [TextCondition] = []
    public var userID: String?
    /// Only licenses created at or after this time (ticks since 1970).
    public var createdAtOrAfter: Int64?
    public var newestFirst = false
    public var page = 1
    public var limit = 10

    /// Parses the query items; throws a message naming the bad parameter.
    init(query: [(String, String)]) throws(EmulatorStore.Rejection) {
        func bad(_ message: String) -> EmulatorStore.Rejection { .init(status: 400, message: message, code: nil) }
        for (name, value) in query {
            if let condition = try TextCondition.parse(
                name: name, field: "key", value: value, allowed: TextCondition.text)
            {
                key.append(condition)
                continue
            }
            if let condition = try TextCondition.parse(
                name: name, field: "productId", value: value, allowed: TextCondition.identity)
            {
                productID.append(condition)
                continue
            }
            if let condition = try TextCondition.parse(
                name: name, field: "id", value: value, allowed: TextCondition.identity)
            {
                id.append(condition)
                continue
            }
            if let condition = try TextCondition.parse(
                name: name, field: "metadata.key", value: value, allowed: TextCondition.text)
            {
                metadataKey.append(condition)
                continue
            }
            if let condition = try TextCondition.parse(
                name: name, field: "metadata.value", value: value, allowed: TextCondition.text)
            {
                metadataValue.append(condition)
                continue
            }
            if let condition = try TextCondition.parse(
                name: name, field: "user.email", value: value, allowed: TextCondition.text,
                caseInsensitive: true)
            {
                userEmail.append(condition)
                continue
            }
            switch name {
            case "userId", "userId[eq]": userID = value
            case "createdAt[gte]":
                guard let ticks = RFC3339.parse(value) else { throw bad("createdAt[gte] must be a date-time.") }
                createdAtOrAfter = ticks
            case "sort":
                switch value {
                case "-createdAt": newestFirst = true
                case "createdAt", "+createdAt": newestFirst = false
                default: throw bad("sort '\(value)' is not supported by the emulator (use createdAt or -createdAt).")
                }
            case "page", "limit":
                try ListPage.read(name, value, page: &page, limit: &limit)
            default:
                throw bad("The query parameter '\(name)' is not supported by the emulator.")
            }
        }
    }

    func matches(_ license: JSONValue, users: [String: JSONValue]) -> Bool {
        guard let fields = license.objectValue else { return false }
        func one(_ name: String) -> [String] { fields[name]?.stringValue.map { [$0] } ?? [] }
        if !key.allSatisfy({ $0.matches(one("key")) }) { return false }
        if !productID.allSatisfy({ $0.matches(one("productId")) }) { return false }
        if !id.allSatisfy({ $0.matches(one("id")) }) { return false }
        if let userID, fields["userId"]?.stringValue != userID { return false }
        if let createdAtOrAfter, (fields["createdAt"]?.stringValue.flatMap(RFC3339.parse) ?? 0) < createdAtOrAfter {
            return false
        }
        let metadata = fields["metadata"]?.arrayValue?.compactMap(\.objectValue) ?? []
        // Key and value are matched independently, as Cryptlex does not promise they match one entry.
        if !metadataKey.allSatisfy({ $0.matches(metadata.compactMap { $0["key"]?.stringValue }) }) { return false }
        if !metadataValue.allSatisfy({ $0.matches(metadata.compactMap { $0["value"]?.stringValue }) }) { return false }
        if !userEmail.isEmpty {
            let email = fields["userId"]?.stringValue.flatMap { users[$0]?.objectValue?["email"]?.stringValue }
            if !userEmail.allSatisfy({ $0.matches(email.map { [$0] } ?? []) }) { return false }
        }
        return true
    }
}

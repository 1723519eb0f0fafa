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
    public var organizationID: [TextCondition] = []
    public var resellerID: [TextCondition] = []
    public var userID: String?
    /// `revoked` and `suspended` (plain booleans, as the schema declares them).
    public var revoked: Bool?
    public var suspended: Bool?
    /// Conditions on `createdAt` and `expiresAt` (`eq ne gt gte lt lte`, compared as instants).
    public var createdAt: [TimeCondition] = []
    public var expiresAt: [TimeCondition] = []
    public var newestFirst = false
    public var page = 1
    public var limit = 10

    /// A deep-object text filter: its name, its operators, and whether it ignores case.
    struct TextField: Sendable {
        var field: String
        var allowed: Set<TextCondition.Operator>
        var caseInsensitive = false
    }

    /// The text filters the list takes, and where each one's conditions go.
    static let textFields: [(TextField, any WritableKeyPath<LicenseFilter, [TextCondition]> & Sendable)] = [
        (TextField(field: "key", allowed: TextCondition.text), \.key),
        (TextField(field: "productId", allowed: TextCondition.identity), \.productID),
        (TextField(field: "id", allowed: TextCondition.identity), \.id),
        (TextField(field: "metadata.key", allowed: TextCondition.text), \.metadataKey),
        (TextField(field: "metadata.value", allowed: TextCondition.text), \.metadataValue),
        (TextField(field: "user.email", allowed: TextCondition.text, caseInsensitive: true), \.userEmail),
        (TextField(field: "organizationId", allowed: TextCondition.identity), \.organizationID),
        (TextField(field: "resellerId", allowed: TextCondition.identity), \.resellerID),
    ]

    /// The date-time filters, and where each one's conditions go.
    static let timeFields: [(String, any WritableKeyPath<LicenseFilter, [TimeCondition]> & Sendable)] = [
        ("createdAt", \.createdAt), ("expiresAt", \.expiresAt),
    ]

    /// Parses the query items; throws a message naming the bad parameter.
    init(query: [(String, String)]) throws(EmulatorStore.Rejection) {
        func bad(_ message: String) -> EmulatorStore.Rejection { .init(status: 400, message: message, code: nil) }
        for (name, value) in query {
            if let (field, path) = Self.textFields.first(where: { name.hasPrefix($0.0.field + "[") }),
                let condition = try TextCondition.parse(
                    name: name, field: field.field, value: value, allowed: field.allowed,
                    caseInsensitive: field.caseInsensitive)
            {
                self[keyPath: path].append(condition)
                continue
            }
            if let (field, path) = Self.timeFields.first(where: { name.hasPrefix($0.0 + "[") }),
                let condition = try TimeCondition.parse(name: name, field: field, value: value)
            {
                self[keyPath: path].append(condition)
                continue
            }
            switch name {
            case "userId", "userId[eq]": userID = value
            case "revoked", "suspended":
                guard value == "true" || value == "false" else { throw bad("\(name) must be true or false.") }
                if name == "revoked" { revoked = value == "true" } else { suspended = value == "true" }
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
        if !organizationID.allSatisfy({ $0.matches(one("organizationId")) }) { return false }
        if !resellerID.allSatisfy({ $0.matches(one("resellerId")) }) { return false }
        if let revoked, (fields["revoked"]?.boolValue ?? false) != revoked { return false }
        if let suspended, (fields["suspended"]?.boolValue ?? false) != suspended { return false }
        let created = fields["createdAt"]?.stringValue.flatMap(RFC3339.parse)
        if !createdAt.allSatisfy({ $0.matches(created) }) { return false }
        let expires = fields["expiresAt"]?.stringValue.flatMap(RFC3339.parse)
        if !expiresAt.allSatisfy({ $0.matches(expires) }) { return false }
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

/// One operator of a date-time filter (`createdAt[gte]=…`): `eq ne gt gte lt lte`, compared as
/// instants. A license without the field (a perpetual one's `expiresAt`) matches only `ne`.
public struct TimeCondition: Sendable, Equatable {
    public enum Operator: String, Sendable, CaseIterable { case eq, ne, gt, gte, lt, lte }
    public var op: Operator
    public var ticks: Int64

    static func parse(name: String, field: String, value: String) throws(EmulatorStore.Rejection) -> TimeCondition? {
        guard name.hasPrefix(field + "["), name.hasSuffix("]") else { return nil }
        let raw = String(name.dropFirst(field.count + 1).dropLast())
        guard let op = Operator(rawValue: raw) else {
            throw EmulatorStore.Rejection(
                status: 400,
                message: "The operator '\(raw)' is not supported on '\(field)' (supported: eq, gt, gte, lt, lte, ne).",
                code: nil)
        }
        guard let ticks = RFC3339.parse(value) else {
            throw EmulatorStore.Rejection(status: 400, message: "\(name) must be a date-time.", code: nil)
        }
        return TimeCondition(op: op, ticks: ticks)
    }

    func matches(_ value: Int64?) -> Bool {
        guard let value else { return op == .ne }
        switch op {
        case .eq: return value == ticks
        case .ne: return value != ticks
        case .gt: return value > ticks
        case .gte: return value >= ticks
        case .lt: return value < ticks
        case .lte: return value <= ticks
        }
    }
}

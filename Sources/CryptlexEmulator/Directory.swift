/// The organizations, or the resellers, of the emulated account: records in creation order, found
/// by the filters the schema subset declares for their lists (`name`, `email`, `id`, and for
/// organizations `resellerId`). Owned by ``EmulatorStore``, which serialises every access.
///
/// Names are not unique: Cryptlex's documentation does not say that a second organization (or
/// reseller) with a taken name is refused, so the emulator allows it — the client must settle a
/// lost answer by looking the name up, never by expecting a 409.
struct Directory: Sendable {
    /// What the records are, for messages ("organization", "reseller").
    let kind: String
    private(set) var records: [String: JSONValue] = [:]
    private(set) var order: [String] = []
    /// When each record was created, in RFC 3339 ticks (for the lookup-lag fault).
    private var createdTicks: [String: Int64] = [:]

    init(kind: String) { self.kind = kind }

    /// Stores a new record made of `body` (already checked against its create schema).
    mutating func create(_ body: [String: JSONValue], id: String, nowTicks: Int64, extra: [String: JSONValue] = [:])
        -> JSONValue
    {
        var record = body.filter { $0.value != .null }
        record["id"] = .string(id)
        record["description"] = record["description"] ?? .string("")
        record["createdAt"] = .string(RFC3339.format(ticks: nowTicks))
        record["updatedAt"] = .string(RFC3339.format(ticks: nowTicks))
        record.merge(extra) { _, new in new }
        let value = JSONValue.object(record)
        records[id] = value
        order.append(id)
        createdTicks[id] = nowTicks
        return value
    }

    func record(id: String) throws(EmulatorStore.Rejection) -> JSONValue {
        guard let record = records[id] else {
            throw EmulatorStore.Rejection(status: 404, message: "The \(kind) does not exist.", code: nil)
        }
        return record
    }

    /// Applies an update body (already schema-checked): present fields replace, `null` clears.
    mutating func update(id: String, _ fields: [String: JSONValue], nowTicks: Int64) throws(EmulatorStore.Rejection)
        -> JSONValue
    {
        guard var record = try record(id: id).objectValue else {
            throw EmulatorStore.Rejection(status: 404, message: "The \(kind) does not exist.", code: nil)
        }
        for (name, value) in fields { record[name] = value == .null ? nil : value }
        record["updatedAt"] = .string(RFC3339.format(ticks: nowTicks))
        records[id] = .object(record)
        return .object(record)
    }

    mutating func delete(id: String) throws(EmulatorStore.Rejection) {
        _ = try record(id: id)
        records[id] = nil
        createdTicks[id] = nil
        order.removeAll { $0 == id }
    }

    /// The records `filter` matches, in creation order, one page; created after `visibleBefore`
    /// they are not listed yet (the lookup-lag fault).
    func find(_ filter: DirectoryFilter, visibleBefore: Int64) -> [JSONValue] {
        let matching = order.lazy
            .filter { (createdTicks[$0] ?? 0) <= visibleBefore }
            .compactMap { records[$0] }
            .filter(filter.matches)
        return Array(matching.dropFirst((filter.page - 1) * filter.limit).prefix(filter.limit))
    }

    mutating func removeAll() {
        records = [:]
        order = []
        createdTicks = [:]
    }
}

/// The filters of `GET /v3/organizations` and `GET /v3/resellers`, parsed from the query string.
struct DirectoryFilter: Sendable, Equatable {
    var name: [TextCondition] = []
    var email: [TextCondition] = []
    var id: [TextCondition] = []
    var resellerID: [TextCondition] = []
    var page = 1
    var limit = 10

    /// `byReseller`: the list takes `resellerId` (organizations' does, resellers' does not).
    init(query: [(String, String)], byReseller: Bool) throws(EmulatorStore.Rejection) {
        func bad(_ message: String) -> EmulatorStore.Rejection { .init(status: 400, message: message, code: nil) }
        for (name, value) in query {
            if let condition = try TextCondition.parse(
                name: name, field: "name", value: value, allowed: TextCondition.text)
            {
                self.name.append(condition)
                continue
            }
            if let condition = try TextCondition.parse(
                name: name, field: "email", value: value, allowed: TextCondition.text, caseInsensitive: true)
            {
                email.append(condition)
                continue
            }
            if let condition = try TextCondition.parse(
                name: name, field: "id", value: value, allowed: TextCondition.identity)
            {
                id.append(condition)
                continue
            }
            if byReseller,
                let condition = try TextCondition.parse(
                    name: name, field: "resellerId", value: value, allowed: TextCondition.identity)
            {
                resellerID.append(condition)
                continue
            }
            switch name {
            case "name": self.name.append(TextCondition(op: .eq, values: [value]))
            case "email": email.append(TextCondition(op: .eq, values: [value], caseInsensitive: true))
            case "id": id.append(TextCondition(op: .eq, values: [value]))
            case "resellerId" where byReseller: resellerID.append(TextCondition(op: .eq, values: [value]))
            case "sort":
                guard value == "createdAt" || value == "+createdAt" else {
                    throw bad("sort '\(value)' is not supported by the emulator (use createdAt).")
                }
            case "page", "limit":
                try ListPage.read(name, value, page: &page, limit: &limit)
            default:
                throw bad("The query parameter '\(name)' is not supported by the emulator.")
            }
        }
    }

    func matches(_ record: JSONValue) -> Bool {
        guard let fields = record.objectValue else { return false }
        func one(_ name: String) -> [String] { fields[name]?.stringValue.map { [$0] } ?? [] }
        return name.allSatisfy { $0.matches(one("name")) } && email.allSatisfy { $0.matches(one("email")) }
            && id.allSatisfy { $0.matches(one("id")) } && resellerID.allSatisfy { $0.matches(one("resellerId")) }
    }
}

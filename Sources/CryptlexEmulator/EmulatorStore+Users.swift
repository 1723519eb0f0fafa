/// Users: created (a taken email is a 409), listed by email or id (`in` probes the index), dumped.
extension EmulatorStore {
    /// Creates a user from a body that already passed the schema check.
    public func createUser(_ body: [String: JSONValue], nowTicks: Int64) throws(Rejection) -> JSONValue {
        let email = body["email"]?.stringValue ?? ""
        if userIDByEmail[email.lowercased()] != nil {
            throw Rejection(
                status: 409, message: "A user with this email already exists.", code: "DUPLICATE_FIELD_VALUE")
        }
        try checkLinks(body)
        let id = generateID()
        var user = body.filter { $0.key != "password" && $0.value != .null }
        let firstName = body["firstName"]?.stringValue ?? ""
        let lastName = body["lastName"]?.stringValue ?? ""
        user["id"] = .string(id)
        user["name"] = .string(lastName.isEmpty ? firstName : "\(firstName) \(lastName)")
        user["lastName"] = .string(lastName)
        user["role"] = body["role"].flatMap { $0 == .null ? nil : $0 } ?? .string("user")
        user["createdAt"] = .string(RFC3339.format(ticks: nowTicks))
        user["updatedAt"] = .string(RFC3339.format(ticks: nowTicks))
        user["tags"] = body["tags"].flatMap { $0 == .null ? nil : $0 } ?? .array([])
        user["metadata"] = .array([])
        let value = JSONValue.object(user)
        users[id] = value
        userOrder.append(id)
        userPosition[id] = userOrder.count - 1
        userIDByEmail[email.lowercased()] = id
        counters.usersCreated += 1
        return value
    }

    /// Users whose email satisfies every condition (compared case-insensitively), in creation order.
    public func findUsers(
        email conditions: [TextCondition], id idConditions: [TextCondition] = [], page: Int, limit: Int
    )
        -> [JSONValue]
    {
        counters.userLookups += 1
        let ids: [String]
        if let exact = idConditions.lazy.compactMap(\.exactValues).first {
            let found = Set(exact.filter { users[$0] != nil })
            ids = found.sorted { (userPosition[$0] ?? 0) < (userPosition[$1] ?? 0) }
        } else if let exact = conditions.lazy.compactMap(\.exactValues).first {
            let found = Set(exact.compactMap { userIDByEmail[$0.lowercased()] })
            ids =
                userOrder.count <= found.count * 8
                ? userOrder.filter(found.contains) : found.sorted { (userPosition[$0] ?? 0) < (userPosition[$1] ?? 0) }
        } else {
            ids = userOrder
        }
        let matching = ids.lazy.compactMap { self.users[$0] }.filter { user in
            let email = user.objectValue?["email"]?.stringValue
            let id = user.objectValue?["id"]?.stringValue
            return conditions.allSatisfy { $0.matches(email.map { [$0] } ?? []) }
                && idConditions.allSatisfy { $0.matches(id.map { [$0] } ?? []) }
        }
        return Array(matching.dropFirst((page - 1) * limit).prefix(limit))
    }

    /// Every user, in creation order (the admin dump).
    public func allUsers() -> [JSONValue] { userOrder.compactMap { users[$0] } }

}

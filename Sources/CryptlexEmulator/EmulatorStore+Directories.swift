/// Organizations (a customer company, optionally under a reseller) and resellers: created, listed
/// with their filters, read, updated and deleted; and the links licenses and users make to them.
extension EmulatorStore {
    /// `POST /v3/organizations` with a body that passed `OrganizationCreateRequestModel`. A
    /// `resellerId` must name a reseller that exists.
    public func createOrganization(_ body: [String: JSONValue], nowTicks: Int64) throws(Rejection) -> JSONValue {
        try checkLinks(body, organization: false)
        counters.organizationsCreated += 1
        var extra: [String: JSONValue] = ["address": body["address"].flatMap { $0 == .null ? nil : $0 } ?? .object([:])]
        if let resellerID = body["resellerId"]?.stringValue, !resellerID.isEmpty {
            extra["reseller"] = resellers.records[resellerID]
        }
        return organizations.create(body, id: generateID(), nowTicks: nowTicks, extra: extra)
    }

    /// `POST /v3/resellers` with a body that passed `ResellerCreateRequestModel`.
    public func createReseller(_ body: [String: JSONValue], nowTicks: Int64) -> JSONValue {
        counters.resellersCreated += 1
        return resellers.create(body, id: generateID(), nowTicks: nowTicks)
    }

    func findOrganizations(_ filter: DirectoryFilter, visibleBefore: Int64) -> [JSONValue] {
        counters.organizationLookups += 1
        return organizations.find(filter, visibleBefore: visibleBefore)
    }

    func findResellers(_ filter: DirectoryFilter, visibleBefore: Int64) -> [JSONValue] {
        counters.resellerLookups += 1
        return resellers.find(filter, visibleBefore: visibleBefore)
    }

    public func organization(id: String) throws(Rejection) -> JSONValue { try organizations.record(id: id) }
    public func reseller(id: String) throws(Rejection) -> JSONValue { try resellers.record(id: id) }

    public func updateOrganization(id: String, _ body: [String: JSONValue], nowTicks: Int64) throws(Rejection)
        -> JSONValue
    {
        try checkLinks(body, organization: false)
        return try organizations.update(id: id, body, nowTicks: nowTicks)
    }

    public func updateReseller(id: String, _ body: [String: JSONValue], nowTicks: Int64) throws(Rejection) -> JSONValue
    {
        try resellers.update(id: id, body, nowTicks: nowTicks)
    }

    public func deleteOrganization(id: String) throws(Rejection) { try organizations.delete(id: id) }
    public func deleteReseller(id: String) throws(Rejection) { try resellers.delete(id: id) }

    /// Every organization and every reseller, in creation order (the admin dump).
    public func allOrganizations() -> [JSONValue] { organizations.order.compactMap { organizations.records[$0] } }
    public func allResellers() -> [JSONValue] { resellers.order.compactMap { resellers.records[$0] } }

    /// A body's `organizationId` (when `organization`) and `resellerId` must name records that
    /// exist, as the API refuses a link to nothing (400).
    func checkLinks(_ body: [String: JSONValue], organization: Bool = true) throws(Rejection) {
        if organization, let id = body["organizationId"]?.stringValue, !id.isEmpty, organizations.records[id] == nil {
            throw Rejection(status: 400, message: "Organization with id '\(id)' does not exist.", code: nil)
        }
        if let id = body["resellerId"]?.stringValue, !id.isEmpty, resellers.records[id] == nil {
            throw Rejection(status: 400, message: "Reseller with id '\(id)' does not exist.", code: nil)
        }
    }
}

/// The emulator's accounts data: licenses, users, organizations, resellers and request counters,
/// behind one actor.
///
/// Licenses are indexed by id, key and metadata value, so marker lookups stay O(1) however many
/// licenses a benchmark creates; the other filters scan in creation order.
///
/// Longer than most files on purpose: the license indexes (by id, key, metadata value and the
/// `createdAt` order lists and cursors follow) and every write that keeps them in step with the
/// licenses are in one place, so no index can be updated by one route and forgotten by another.
/// Users (``EmulatorStore+Users.swift``) and organizations and resellers
/// (``EmulatorStore+Directories.swift``) have indexes of their own and live beside it.
public actor EmulatorStore {
    /// A rejected write, as the route will answer it.
    public struct Rejection: Error, Sendable {
        public var status: Int
        public var message: String
        public var code: String?
    }

    private var licenses: [String: JSONValue] = [:] {
        didSet { licenseVersion &+= 1 }
    }
    /// Changes with every write to a license: a paged scan's cursor is good only for one version.
    private var licenseVersion = 0
    /// Where the last paged scan stopped: the next page of the same query continues from there,
    /// instead of matching every earlier license again (paging through 100,000 licenses, 100 a
    /// page, would otherwise match 50 million times).
    private var scanCursor: (filter: LicenseFilter, version: Int, nextPage: Int, index: Int)?
    /// When each license arrived, in RFC 3339 ticks (for the lookup-lag fault).
    private var licenseCreatedTicks: [String: Int64] = [:]
    /// Each license's `createdAt` in ticks: what lists are ordered by (a migrated license, created
    /// with an older `createdAt`, is listed among the licenses of its date, as Cryptlex lists it).
    private var licenseSortTicks: [String: Int64] = [:]
    /// The latest arrival (for whether a scan sees everything).
    private var latestArrivalTicks: Int64 = 0
    /// Every license, oldest `createdAt` first (ties in the order they arrived).
    private var licenseOrder: [String] = []
    private var licenseIDByKey: [String: String] = [:]
    private var licenseIDsByMetadataValue: [String: [String]] = [:]
    /// Each license's place in `licenseOrder` (creation order, for index probes).
    private var licensePosition: [String: Int] = [:]
    /// Users by id, in creation order, by email (``EmulatorStore+Users.swift``).
    var userPosition: [String: Int] = [:]
    var users: [String: JSONValue] = [:]
    var userOrder: [String] = []
    var userIDByEmail: [String: String] = [:]
    var counters = EmulatorCounters()
    /// Customer companies and resellers (``EmulatorStore+Directories.swift``).
    var organizations = Directory(kind: "organization")
    var resellers = Directory(kind: "reseller")
    private var generator: SplitMix64
    private let seed: UInt64
    private let products: Set<String>

    /// - Parameters:
    ///   - products: the product ids that exist; empty accepts every product id.
    ///   - seed: seeds generated ids and keys, so runs are reproducible.
    public init(products: Set<String>, seed: UInt64) {
        self.products = products
        self.seed = seed
        self.generator = SplitMix64(seed: seed ^ 0x5EED)
    }

    // MARK: counters

    /// Applies a change to the counters.
    public func count(_ change: @Sendable (inout EmulatorCounters) -> Void) { change(&counters) }

    /// Counts one `/v3` request on arrival, and on its route's counter when it has one.
    public func countArrival(_ route: CountedRoute?) {
        counters.requests += 1
        switch route {
        case .licenseCreate?: counters.licenseCreateRequests += 1
        case .userCreate?: counters.userCreateRequests += 1
        case .organizationCreate?: counters.organizationCreateRequests += 1
        case .resellerCreate?: counters.resellerCreateRequests += 1
        case nil: break
        }
    }

    /// Routes with a counter of their own.
    public enum CountedRoute: Sendable { case licenseCreate, userCreate, organizationCreate, resellerCreate }

    /// A snapshot of the counters.
    public func snapshot() -> EmulatorCounters { counters }

    /// Forgets every license, user and count.
    public func reset() {
        licenses = [:]
        licenseCreatedTicks = [:]
        licenseSortTicks = [:]
        latestArrivalTicks = 0
        licenseOrder = []
        licenseIDByKey = [:]
        licenseIDsByMetadataValue = [:]
        licensePosition = [:]
        users = [:]
        userOrder = []
        userIDByEmail = [:]
        userPosition = [:]
        organizations.removeAll()
        resellers.removeAll()
        counters = EmulatorCounters()
        changes = [:]
        generator = SplitMix64(seed: seed ^ 0x5EED)
    }

    // MARK: licenses

    /// Creates a license from a body that already passed the schema check.
    public func createLicense(_ body: [String: JSONValue], nowTicks: Int64) throws(Rejection) -> JSONValue {
        let productID = body["productId"]?.stringValue ?? ""
        if !products.isEmpty, !products.contains(productID) {
            throw Rejection(status: 400, message: "Product with id '\(productID)' does not exist.", code: nil)
        }
        var user: JSONValue = .null
        if let userID = body["userId"]?.stringValue, !userID.isEmpty {
            guard let found = users[userID] else {
                throw Rejection(status: 400, message: "User with id '\(userID)' does not exist.", code: nil)
            }
            user = found
        }
        try checkLinks(body)
        let key = body["key"]?.stringValue ?? generateKey()
        if licenseIDByKey[key] != nil {
            throw Rejection(
                status: 409, message: "A license with this key already exists.", code: "DUPLICATE_FIELD_VALUE")
        }
        let id = generateID()
        let created = body["createdAt"]?.stringValue.flatMap(RFC3339.parse) ?? nowTicks
        var license = body.filter { $0.value != .null }
        license["id"] = .string(id)
        license["key"] = .string(key)
        license["createdAt"] = .string(RFC3339.format(ticks: created))
        license["updatedAt"] = .string(RFC3339.format(ticks: nowTicks))
        license["revoked"] = body["revoked"].flatMap { $0 == .null ? nil : $0 } ?? .bool(false)
        license["suspended"] = body["suspended"].flatMap { $0 == .null ? nil : $0 } ?? .bool(false)
        license["totalActivations"] = .int(0)
        license["totalDeactivations"] = .int(0)
        license["tags"] = body["tags"].flatMap { $0 == .null ? nil : $0 } ?? .array([])
        license["user"] = user
        var metadata: [JSONValue] = []
        for entry in body["metadata"]?.arrayValue ?? [] {
            guard var fields = entry.objectValue else { continue }
            fields["id"] = .string(generateID())
            fields["viewPermissions"] = fields["viewPermissions"].flatMap { $0 == .null ? nil : $0 } ?? .array([])
            fields.removeValue(forKey: "visible")
            metadata.append(.object(fields))
            if let value = fields["value"]?.stringValue { licenseIDsByMetadataValue[value, default: []].append(id) }
        }
        license["metadata"] = .array(metadata)
        let value = JSONValue.object(license)
        licenses[id] = value
        licenseCreatedTicks[id] = nowTicks
        latestArrivalTicks = max(latestArrivalTicks, nowTicks)
        insertInOrder(id, createdTicks: created)
        licenseIDByKey[key] = id
        counters.licensesCreated += 1
        return value
    }

    /// Licenses matching every filter, in creation order (or newest first), one page of them.
    /// Licenses created after `visibleBefore` (ticks) are not seen yet (a lagging index).
    public func findLicenses(_ filter: LicenseFilter, visibleBefore: Int64 = .max) -> [JSONValue] {
        counters.licenseLookups += 1
        var candidates: [String]
        // An exact key or marker (eq, in) is found through its index; anything else scans.
        if let ids = filter.id.lazy.compactMap(\.exactValues).first {
            candidates = inCreationOrder(Set(ids.filter { self.licenses[$0] != nil }))
        } else if let keys = filter.key.lazy.compactMap(\.exactValues).first {
            candidates = inCreationOrder(Set(keys.compactMap { licenseIDByKey[$0] }))
        } else if let values = filter.metadataValue.lazy.compactMap(\.exactValues).first {
            candidates = inCreationOrder(Set(values.flatMap { licenseIDsByMetadataValue[$0] ?? [] }))
        } else if !filter.newestFirst,
            let from = filter.createdAt.compactMap({ $0.op == .gte || $0.op == .gt ? $0.ticks : nil }).max()
        {
            // A cursor (`createdAt[gte]`, as `licprov pull` pages): the scan starts at its time.
            candidates = Array(licenseOrder[firstPosition(createdAtOrAfter: from)...])
        } else {
            candidates = licenseOrder
        }
        if filter.newestFirst { candidates.reverse() }
        // A whole scan in creation order, with every license visible: continued from the cursor.
        let everythingVisible = latestArrivalTicks <= visibleBefore
        if candidates.count == licenseOrder.count, !filter.newestFirst, everythingVisible {
            var query = filter
            query.page = 1
            var index = 0
            if filter.page > 1 {
                guard let cursor = scanCursor, cursor.filter == query, cursor.version == licenseVersion,
                    cursor.nextPage == filter.page
                else {
                    return page(of: candidates, filter, visibleBefore: visibleBefore)
                }
                index = cursor.index
            }
            var found: [JSONValue] = []
            while index < candidates.count, found.count < filter.limit {
                if let license = licenses[candidates[index]], filter.matches(license, users: users) {
                    found.append(license)
                }
                index += 1
            }
            scanCursor = (query, licenseVersion, filter.page + 1, index)
            return found
        }
        return page(of: candidates, filter, visibleBefore: visibleBefore)
    }

    /// One page of `candidates` that match `filter` and are visible.
    private func page(of candidates: [String], _ filter: LicenseFilter, visibleBefore: Int64) -> [JSONValue] {
        let matching = candidates.lazy.filter { (self.licenseCreatedTicks[$0] ?? 0) <= visibleBefore }
            .compactMap { self.licenses[$0] }.filter { filter.matches($0, users: self.users) }
        return Array(matching.dropFirst((filter.page - 1) * filter.limit).prefix(filter.limit))
    }

    private func inCreationOrder(_ ids: Set<String>) -> [String] {
        ids.sorted { (licensePosition[$0] ?? 0) < (licensePosition[$1] ?? 0) }
    }

    /// The place in `licenseOrder` of the first license created at `ticks` or later.
    private func firstPosition(createdAtOrAfter ticks: Int64) -> Int {
        var low = 0
        var high = licenseOrder.count
        while low < high {
            let middle = (low + high) / 2
            if (licenseSortTicks[licenseOrder[middle]] ?? 0) < ticks { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// Puts a new license in `licenseOrder` by its `createdAt`: at the end when it is the newest
    /// (every license created now), else after the last license of its time or older.
    private func insertInOrder(_ id: String, createdTicks: Int64) {
        licenseSortTicks[id] = createdTicks
        if let last = licenseOrder.last, (licenseSortTicks[last] ?? 0) > createdTicks {
            var low = 0
            var high = licenseOrder.count
            while low < high {
                let middle = (low + high) / 2
                if (licenseSortTicks[licenseOrder[middle]] ?? 0) <= createdTicks {
                    low = middle + 1
                } else {
                    high = middle
                }
            }
            licenseOrder.insert(id, at: low)
            for index in low..<licenseOrder.count { licensePosition[licenseOrder[index]] = index }
        } else {
            licensePosition[id] = licenseOrder.count
            licenseOrder.append(id)
        }
    }

    /// Every license, in creation order (the admin dump).
    public func allLicenses() -> [JSONValue] { licenseOrder.compactMap { licenses[$0] } }

    // MARK: one license

    /// A route that changes a license, as `GET /__admin/changes` names it.
    enum LicenseChange: String {
        case update, renew
        case expiresAt = "expires-at"
        case delete
    }

    /// The changes applied to each license, by ``LicenseChange``: what a test compares with what
    /// a run says it did (`GET /__admin/changes`).
    private var changes: [String: [String: Int]] = [:]

    public func changesByLicense() -> [String: [String: Int]] { changes }

    private func existing(_ id: String) throws(Rejection) -> [String: JSONValue] {
        guard let license = licenses[id]?.objectValue else {
            throw Rejection(status: 404, message: "License with id '\(id)' does not exist.", code: nil)
        }
        return license
    }

    private func store(_ id: String, _ license: [String: JSONValue], change: LicenseChange, nowTicks: Int64)
        -> JSONValue
    {
        var license = license
        license["updatedAt"] = .string(RFC3339.format(ticks: nowTicks))
        let value = JSONValue.object(license)
        licenses[id] = value
        changes[id, default: [:]][change.rawValue, default: 0] += 1
        return value
    }

    /// `GET /v3/products/{id}`: a `ProductDto` for a product that exists (any id when the emulator
    /// names none), counting this account's licenses of it.
    public func product(id: String) throws(Rejection) -> JSONValue {
        guard products.isEmpty || products.contains(id) else {
            throw Rejection(status: 404, message: "Product not found.", code: nil)
        }
        let total = licenses.values.count { $0.objectValue?["productId"]?.stringValue == id }
        let created = JSONValue.string(RFC3339.format(ticks: 0))
        return .object([
            "id": .string(id), "name": .string(id), "displayName": .string(id), "description": .string(""),
            "publicKey": .string(""),
            "createdAt": created, "updatedAt": created, "totalLicenses": .int(Int64(total)),
            "totalTrialActivations": .int(0),
            "totalReleases": .int(0), "totalProductVersions": .int(0), "totalFeatureFlags": .int(0),
            "automatedEmails": .array([]), "licenseTemplateId": .string(""), "trialPolicyId": .string(""),
            "metadata": .array([]),
        ])
    }

    public func license(id: String) throws(Rejection) -> JSONValue {
        counters.licenseReads += 1
        return .object(try existing(id))
    }

    /// `PATCH /v3/licenses/{id}` with a body that passed `LicenseUpdateRequestModel`: the fields
    /// present (not null) replace the license's; `metadata`, when present, replaces the list.
    public func updateLicense(id: String, _ body: [String: JSONValue], nowTicks: Int64) throws(Rejection) -> JSONValue {
        var license = try existing(id)
        if let key = body["key"]?.stringValue, key != license["key"]?.stringValue {
            if licenseIDByKey[key] != nil {
                throw Rejection(
                    status: 409, message: "A license with this key already exists.", code: "DUPLICATE_FIELD_VALUE")
            }
            if let old = license["key"]?.stringValue { licenseIDByKey.removeValue(forKey: old) }
            licenseIDByKey[key] = id
        }
        if let userID = body["userId"]?.stringValue, !userID.isEmpty {
            guard let user = users[userID] else {
                throw Rejection(status: 400, message: "User with id '\(userID)' does not exist.", code: nil)
            }
            license["user"] = user
        }
        try checkLinks(body)
        for (name, value) in body where value != .null && name != "metadata" { license[name] = value }
        if let entries = body["metadata"]?.arrayValue {
            unindexMetadata(of: id, license)
            license["metadata"] = .array(
                entries.compactMap { entry -> JSONValue? in
                    guard var fields = entry.objectValue else { return nil }
                    fields["id"] = .string(generateID())
                    fields["viewPermissions"] =
                        fields["viewPermissions"].flatMap { $0 == .null ? nil : $0 } ?? .array([])
                    fields.removeValue(forKey: "visible")
                    if let value = fields["value"]?.stringValue {
                        licenseIDsByMetadataValue[value, default: []].append(id)
                    }
                    return .object(fields)
                })
        }
        counters.licenseUpdates += 1
        return store(id, license, change: .update, nowTicks: nowTicks)
    }

    /// `POST /v3/licenses/{id}/renew`: `expiresAt` (or now, for a license without one) plus the
    /// license's `subscriptionInterval`. Not idempotent: each call extends again.
    public func renewLicense(id: String, nowTicks: Int64) throws(Rejection) -> JSONValue {
        var license = try existing(id)
        guard let interval = license["subscriptionInterval"]?.stringValue, let step = ISODuration(interval) else {
            throw Rejection(status: 400, message: "The license has no subscription interval to renew by.", code: nil)
        }
        let base = license["expiresAt"]?.stringValue.flatMap(RFC3339.parse) ?? nowTicks
        license["expiresAt"] = .string(RFC3339.format(ticks: step.added(to: base)))
        counters.licenseRenewals += 1
        return store(id, license, change: .renew, nowTicks: nowTicks)
    }

    /// `PATCH /v3/licenses/{id}/expires-at`: a date-time, or null for a license that never expires.
    public func setExpiry(id: String, _ body: [String: JSONValue], nowTicks: Int64) throws(Rejection) -> JSONValue {
        var license = try existing(id)
        switch body["expiresAt"] {
        case .string(let text)?:
            guard let ticks = RFC3339.parse(text) else {
                throw Rejection(status: 400, message: "expiresAt is not a date-time.", code: nil)
            }
            license["expiresAt"] = .string(RFC3339.format(ticks: ticks))
        default:
            license["expiresAt"] = .null
        }
        counters.licenseExpiryChanges += 1
        return store(id, license, change: .expiresAt, nowTicks: nowTicks)
    }

    /// `DELETE /v3/licenses/{id}`.
    public func deleteLicense(id: String) throws(Rejection) {
        let license = try existing(id)
        unindexMetadata(of: id, license)
        if let key = license["key"]?.stringValue { licenseIDByKey.removeValue(forKey: key) }
        licenses.removeValue(forKey: id)
        licenseSortTicks.removeValue(forKey: id)
        licenseOrder.removeAll { $0 == id }
        licensePosition = Dictionary(uniqueKeysWithValues: licenseOrder.enumerated().map { ($1, $0) })
        counters.licensesDeleted += 1
        changes[id, default: [:]][LicenseChange.delete.rawValue, default: 0] += 1
    }

    private func unindexMetadata(of id: String, _ license: [String: JSONValue]) {
        for entry in license["metadata"]?.arrayValue ?? [] {
            guard let value = entry.objectValue?["value"]?.stringValue else { continue }
            licenseIDsByMetadataValue[value]?.removeAll { $0 == id }
            if licenseIDsByMetadataValue[value]?.isEmpty == true {
                licenseIDsByMetadataValue.removeValue(forKey: value)
            }
        }
    }

    // MARK: generated values

    func generateID() -> String {
        let a = generator.next()
        let b = generator.next()
        let hex = String(a, radix: 16).leftPadded(16) + String(b, radix: 16).leftPadded(16)
        let chars = Array(hex)
        return
            "\(String(chars[0..<8]))-\(String(chars[8..<12]))-4\(String(chars[13..<16]))-a\(String(chars[17..<20]))-\(String(chars[20..<32]))"
    }

    private func generateKey() -> String {
        let hex = (0..<3).map { _ in String(generator.next(), radix: 16).leftPadded(16) }.joined().uppercased()
        let chars = Array(hex)
        return stride(from: 0, to: 36, by: 6).map { String(chars[$0..<$0 + 6]) }.joined(separator: "-")
    }
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}

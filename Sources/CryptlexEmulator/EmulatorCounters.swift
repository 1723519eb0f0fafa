/// What the emulator has seen since it started or was last reset (`GET /__admin/counters`).
public struct EmulatorCounters: Sendable, Codable, Equatable {
    /// Every `/v3` request that arrived.
    public var requests = 0
    /// Requests refused with 429.
    public var rateLimited = 0
    /// Requests refused with 401.
    public var unauthorized = 0
    /// Requests refused with 403 (a read-only token writing).
    public var forbidden = 0
    /// Requests answered 400 (schema, unknown product or user, bad query).
    public var badRequests = 0
    /// Requests answered 404 (a license that does not exist).
    public var notFound = 0
    /// Requests answered 409.
    public var conflicts = 0
    public var licensesCreated = 0
    public var licenseLookups = 0
    /// `GET /v3/licenses/{id}` answered.
    public var licenseReads = 0
    /// Changes applied: `PATCH /v3/licenses/{id}`, renewals, `PATCH …/expires-at`, deletions.
    public var licenseUpdates = 0
    public var licenseRenewals = 0
    public var licenseExpiryChanges = 0
    public var licensesDeleted = 0
    public var usersCreated = 0
    public var userLookups = 0
    /// `POST /v3/licenses` requests that arrived, whatever their outcome.
    public var licenseCreateRequests = 0
    /// `POST /v3/users` requests that arrived, whatever their outcome.
    public var userCreateRequests = 0
    public var organizationsCreated = 0
    public var organizationLookups = 0
    public var resellersCreated = 0
    public var resellerLookups = 0
    /// `POST /v3/organizations` and `POST /v3/resellers` requests that arrived, whatever their outcome.
    public var organizationCreateRequests = 0
    public var resellerCreateRequests = 0
    /// Injected faults, by kind (`"500"`, `"reset"`, `"lost-response"`, …).
    public var faults: [String: Int] = [:]

    public init() {}
}

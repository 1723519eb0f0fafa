import CryptlexAPI

/// What a row does: create a license (the default), or change one that exists.
public enum LicenseAction: String, Sendable, CaseIterable, Hashable {
    case create
    /// `PATCH /v3/licenses/{id}` with the row's fields (`LicenseUpdateRequestModel`).
    case update
    /// `POST /v3/licenses/{id}/renew`: the expiry plus the subscription interval. Not idempotent.
    case renew
    /// `PATCH /v3/licenses/{id}/expires-at` with the row's `expiresAt` (`perpetual`: none).
    case setExpiry = "set-expiry"
    case suspend, unsuspend, revoke, unrevoke
    /// `DELETE /v3/licenses/{id}`.
    case delete

    /// Reads a cell or flag value: any case, `_` or a space for `-` (`Set Expiry`, `set_expiry`).
    public init?(text: String) {
        let normalized = text.trimmed.lowercased().replacingOccurrences(of: "_", with: "-").replacingOccurrences(of: " ", with: "-")
        self.init(rawValue: normalized)
    }

    public static var names: String { allCases.map(\.rawValue).joined(separator: ", ") }

    /// The body fields a row of this action may set (besides its target).
    var allowsFields: Bool { self == .create || self == .update }
}

/// How a change row names the license it changes.
public enum LicenseTarget: Sendable, Hashable {
    /// A `licenseId` column.
    case id(String)
    /// A `key` column: the license with that key.
    case key(String)
    /// `--target-metadata NAME`: the license whose metadata entry NAME holds `value`.
    case metadata(name: String, value: String)

    /// For messages: `license 3f2…`, `key ABC…`, `order_id=ORD-7`.
    public var description: String {
        switch self {
        case .id(let id): "licenseId \(id)"
        case .key(let key): "key \(key)"
        case .metadata(let name, let value): "\(name)=\(value)"
        }
    }
}

/// The new expiry of a `set-expiry` row.
public enum ExpiryChange: Sendable, Hashable {
    case date(String)
    /// `perpetual`: the license never expires.
    case perpetual
}

extension LicenseFieldTable {
    /// The fields of `LicenseUpdateRequestModel` (a contract test checks them against the schema).
    public static let updatable: Set<String> = [
        "key", "revoked", "suspended", "fingerprintMatchingStrategy", "allowedActivations", "allowedDeactivations",
        "leaseDuration", "allowClientLeaseDuration", "allowedFloatingClients", "serverSyncGracePeriod", "serverSyncInterval",
        "allowedClockOffset", "disableClockValidation", "cryptoBindingEnabled", "expiringSoonEventOffset", "allowVmActivation",
        "allowContainerActivation", "disableGeoLocation", "notes", "allowedIpRanges", "allowedCountries", "disallowedCountries",
        "allowedIpAddresses", "disallowedIpAddresses", "userId", "resellerId", "organizationId", "additionalUserIds",
        "productVersionId", "entitlementSetId", "maintenancePolicyId", "maxAllowedReleaseVersion", "tags", "metadata",
        "meterAttributes",
    ]

    /// What to do instead, for a create-only field on an update row.
    static func updateHint(for field: String) -> String {
        switch field {
        case "expiresAt": "use the set-expiry action (or renew)"
        case "productId": "a license cannot move to another product; create a new one"
        default: "it can only be set when the license is created"
        }
    }
}

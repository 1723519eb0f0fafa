import CryptlexModels

extension LicenseAction {
    /// The body fields a row of this action may set (besides its target).
    var allowsFields: Bool { self == .create || self == .update }
}

extension LicenseFieldTable {
    /// The fields of `LicenseUpdateRequestModel` (a contract test checks them against the schema).
    package static let updatable: Set<String> = [
        "key", "revoked", "suspended", "fingerprintMatchingStrategy", "allowedActivations", "allowedDeactivations",
        "leaseDuration", "allowClientLeaseDuration", "allowedFloatingClients", "serverSyncGracePeriod",
        "serverSyncInterval",
        "allowedClockOffset", "disableClockValidation", "cryptoBindingEnabled", "expiringSoonEventOffset",
        "allowVmActivation",
        "allowContainerActivation", "disableGeoLocation", "notes", "allowedIpRanges", "allowedCountries",
        "disallowedCountries",
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

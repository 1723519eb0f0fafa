import CryptlexModels

/// Every field of `LicenseRequestModel`, in schema order: the one table that maps column names
/// to body fields. This file is a table, so it is longer than most. A contract test checks it
/// against the published schema.
package enum LicenseFieldTable {
    package static let all: [LicenseField] = [
        LicenseField("key", .text) { $0.key = $1.text },
        LicenseField("revoked", .bool) { $0.revoked = $1.bool },
        LicenseField("suspended", .bool) { $0.suspended = $1.bool },
        LicenseField("fingerprintMatchingStrategy", .choice(FingerprintMatchingStrategy.allCases.map(\.rawValue))) {
            $0.fingerprintMatchingStrategy = $1.text.flatMap(FingerprintMatchingStrategy.init(rawValue:))
        },
        LicenseField("allowedActivations", .int32) { $0.allowedActivations = $1.int32 },
        LicenseField("allowedDeactivations", .int32) { $0.allowedDeactivations = $1.int32 },
        LicenseField("leaseDuration", .int32) { $0.leaseDuration = $1.int32 },
        LicenseField("allowClientLeaseDuration", .bool) { $0.allowClientLeaseDuration = $1.bool },
        LicenseField("allowedFloatingClients", .int32) { $0.allowedFloatingClients = $1.int32 },
        LicenseField("serverSyncGracePeriod", .int32) { $0.serverSyncGracePeriod = $1.int32 },
        LicenseField("serverSyncInterval", .int32) { $0.serverSyncInterval = $1.int32 },
        LicenseField("allowedClockOffset", .int32) { $0.allowedClockOffset = $1.int32 },
        LicenseField("disableClockValidation", .bool, deprecated: true) { $0.disableClockValidation = $1.bool },
        LicenseField("cryptoBindingEnabled", .bool) { $0.cryptoBindingEnabled = $1.bool },
        LicenseField("expiringSoonEventOffset", .int32) { $0.expiringSoonEventOffset = $1.int32 },
        LicenseField("allowVmActivation", .bool) { $0.allowVmActivation = $1.bool },
        LicenseField("allowContainerActivation", .bool) { $0.allowContainerActivation = $1.bool },
        LicenseField("disableGeoLocation", .bool) { $0.disableGeoLocation = $1.bool },
        LicenseField("notes", .text) { $0.notes = $1.text },
        LicenseField("allowedIpRanges", .stringList) { $0.allowedIpRanges = $1.list },
        LicenseField("allowedCountries", .stringList) { $0.allowedCountries = $1.list },
        LicenseField("disallowedCountries", .stringList) { $0.disallowedCountries = $1.list },
        LicenseField("allowedIpAddresses", .stringList) { $0.allowedIpAddresses = $1.list },
        LicenseField("disallowedIpAddresses", .stringList) { $0.disallowedIpAddresses = $1.list },
        LicenseField("userId", .text) { $0.userId = $1.text },
        LicenseField("resellerId", .text) { $0.resellerId = $1.text },
        LicenseField("organizationId", .text) { $0.organizationId = $1.text },
        LicenseField("additionalUserIds", .stringList) { $0.additionalUserIds = $1.list },
        LicenseField("productVersionId", .text) { $0.productVersionId = $1.text },
        LicenseField("entitlementSetId", .text) { $0.entitlementSetId = $1.text },
        LicenseField("maintenancePolicyId", .text) { $0.maintenancePolicyId = $1.text },
        LicenseField("maxAllowedReleaseVersion", .text) { $0.maxAllowedReleaseVersion = $1.text },
        LicenseField("tags", .stringList) { $0.tags = $1.list },
        LicenseField("metadata", .metadata) { request, value in
            if case .metadata(let entries) = value { request.metadata = (request.metadata ?? []) + entries }
        },
        LicenseField("meterAttributes", .meterAttributes) { request, value in
            if case .meters(let meters) = value { request.meterAttributes = meters }
        },
        LicenseField("validity", .int32, deprecated: true) { $0.validity = $1.int32 },
        LicenseField("expirationStrategy", .choice(ExpirationStrategy.allCases.map(\.rawValue)), deprecated: true) {
            $0.expirationStrategy = $1.text.flatMap(ExpirationStrategy.init(rawValue:))
        },
        LicenseField("subscriptionInterval", .duration) { $0.subscriptionInterval = $1.text },
        LicenseField("subscriptionStartTrigger", .choice(SubscriptionStartTrigger.allCases.map(\.rawValue))) {
            $0.subscriptionStartTrigger = $1.text.flatMap(SubscriptionStartTrigger.init(rawValue:))
        },
        LicenseField("expiresAt", .dateTime) { $0.expiresAt = $1.text },
        LicenseField("leasingStrategy", .choice(LeasingStrategy.allCases.map(\.rawValue))) {
            $0.leasingStrategy = $1.text.flatMap(LeasingStrategy.init(rawValue:))
        },
        LicenseField("userLocked", .bool) { $0.userLocked = $1.bool },
        LicenseField("type", .choice(LicenseType.allCases.map(\.rawValue))) {
            $0.type = $1.text.flatMap(LicenseType.init(rawValue:))
        },
        LicenseField("createdAt", .dateTime) { $0.createdAt = $1.text },
        LicenseField("effectiveDate", .dateTime) { $0.effectiveDate = $1.text },
        LicenseField("productId", .text) { $0.productId = $1.text ?? "" },
        LicenseField("licenseTemplateId", .text) { $0.licenseTemplateId = $1.text },
        LicenseField("licensePolicyId", .text, deprecated: true) { $0.licensePolicyId = $1.text },
    ]

    /// Each field's kind and store function, by index, so the per-cell path copies no field
    /// (and touches no shared reference count when rows are mapped on several threads).
    static let kinds: [LicenseField.Kind] = all.map(\.kind)
    static let store: [@Sendable (inout LicenseRequest, LicenseField.Value) -> Void] = all.map(\.store)

    static let expiresAtIndex = all.firstIndex { $0.name == "expiresAt" }!

    /// Fields by normalised name (lower case, letters and digits only), so `Allowed Activations`,
    /// `allowed_activations` and `allowedActivations` all find the same field.
    static let indexByNormalizedName: [String: Int] = Dictionary(
        uniqueKeysWithValues: all.enumerated().map { (normalize($1.name), $0) })

    /// Lower case, letters and digits only.
    static func normalize(_ name: String) -> String {
        String(
            String.UnicodeScalarView(
                name.unicodeScalars.filter { $0.properties.isAlphabetic || ("0"..."9").contains($0) })
        ).lowercased()
    }
}

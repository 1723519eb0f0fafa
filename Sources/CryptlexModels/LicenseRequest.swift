/// The body of `POST /v3/licenses` (`LicenseRequestModel`), field for field.
///
/// Every field but `productId` is optional and a nil field is left out of the JSON entirely: the
/// schema declares `additionalProperties: false`, and a field that is not sent falls back to the
/// product's license template. A contract test checks these names and types against the
/// published schema.
package struct LicenseRequest: Codable, Sendable, Hashable {
    package var productId: String
    package var key: String?
    package var revoked: Bool?
    package var suspended: Bool?
    package var fingerprintMatchingStrategy: FingerprintMatchingStrategy?
    package var allowedActivations: Int32?
    package var allowedDeactivations: Int32?
    package var leaseDuration: Int32?
    package var allowClientLeaseDuration: Bool?
    package var allowedFloatingClients: Int32?
    package var serverSyncGracePeriod: Int32?
    package var serverSyncInterval: Int32?
    package var allowedClockOffset: Int32?
    /// Deprecated by Cryptlex; passed through for older exports.
    package var disableClockValidation: Bool?
    package var cryptoBindingEnabled: Bool?
    package var expiringSoonEventOffset: Int32?
    package var allowVmActivation: Bool?
    package var allowContainerActivation: Bool?
    package var disableGeoLocation: Bool?
    package var notes: String?
    package var allowedIpRanges: [String]?
    package var allowedCountries: [String]?
    package var disallowedCountries: [String]?
    package var allowedIpAddresses: [String]?
    package var disallowedIpAddresses: [String]?
    package var userId: String?
    package var resellerId: String?
    package var organizationId: String?
    package var additionalUserIds: [String]?
    package var productVersionId: String?
    package var entitlementSetId: String?
    package var maintenancePolicyId: String?
    package var maxAllowedReleaseVersion: String?
    package var tags: [String]?
    package var metadata: [LicenseMetadata]?
    package var meterAttributes: [LicenseMeterAttribute]?
    /// Deprecated in favour of `subscriptionInterval`; passed through for older exports.
    package var validity: Int32?
    /// Deprecated in favour of `subscriptionStartTrigger`; passed through for older exports.
    package var expirationStrategy: ExpirationStrategy?
    /// An ISO 8601 duration such as `P1Y`, `P6M` or `PT24H`.
    package var subscriptionInterval: String?
    package var subscriptionStartTrigger: SubscriptionStartTrigger?
    /// An RFC 3339 date-time.
    package var expiresAt: String?
    package var leasingStrategy: LeasingStrategy?
    package var userLocked: Bool?
    package var type: LicenseType?
    /// An RFC 3339 date-time: a migrated license's original creation time.
    package var createdAt: String?
    /// An RFC 3339 date-time.
    package var effectiveDate: String?
    package var licenseTemplateId: String?
    /// Deprecated in favour of `licenseTemplateId`; passed through for older exports.
    package var licensePolicyId: String?

    package init(productId: String) {
        self.productId = productId
    }
}

/// One metadata entry of a license (`LicenseMetadataRequestModel`).
package struct LicenseMetadata: Codable, Sendable, Hashable {
    package var key: String
    package var value: String
    package var viewPermissions: [ViewPermission]?
    /// Deprecated by Cryptlex in favour of `viewPermissions`.
    package var visible: Bool?

    package init(key: String, value: String, viewPermissions: [ViewPermission]? = nil, visible: Bool? = nil) {
        self.key = key
        self.value = value
        self.viewPermissions = viewPermissions
        self.visible = visible
    }
}

/// One meter attribute of a license (`LicenseMeterAttributeRequestModel`).
package struct LicenseMeterAttribute: Codable, Sendable, Hashable {
    package var name: String
    package var allowedUses: Int64
    package var viewPermissions: [ViewPermission]?
    package var visible: Bool?
    package var floating: Bool?

    package init(name: String, allowedUses: Int64) {
        self.name = name
        self.allowedUses = allowedUses
    }
}

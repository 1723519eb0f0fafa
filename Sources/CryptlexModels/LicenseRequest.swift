/// The body of `POST /v3/licenses` (`LicenseRequestModel`), field for field.
///
/// Every field but `productId` is optional and a nil field is left out of the JSON entirely: the
/// schema declares `additionalProperties: false`, and a field that is not sent falls back to the
/// product's license template. A contract test checks these names and types against the
/// published schema.
public struct LicenseRequest: Codable, Sendable, Hashable {
    public var productId: String
    public var key: String?
    public var revoked: Bool?
    public var suspended: Bool?
    public var fingerprintMatchingStrategy: FingerprintMatchingStrategy?
    public var allowedActivations: Int32?
    public var allowedDeactivations: Int32?
    public var leaseDuration: Int32?
    public var allowClientLeaseDuration: Bool?
    public var allowedFloatingClients: Int32?
    public var serverSyncGracePeriod: Int32?
    public var serverSyncInterval: Int32?
    public var allowedClockOffset: Int32?
    /// Deprecated by Cryptlex; passed through for older exports.
    public var disableClockValidation: Bool?
    public var cryptoBindingEnabled: Bool?
    public var expiringSoonEventOffset: Int32?
    public var allowVmActivation: Bool?
    public var allowContainerActivation: Bool?
    public var disableGeoLocation: Bool?
    public var notes: String?
    public var allowedIpRanges: [String]?
    public var allowedCountries: [String]?
    public var disallowedCountries: [String]?
    public var allowedIpAddresses: [String]?
    public var disallowedIpAddresses: [String]?
    public var userId: String?
    public var resellerId: String?
    public var organizationId: String?
    public var additionalUserIds: [String]?
    public var productVersionId: String?
    public var entitlementSetId: String?
    public var maintenancePolicyId: String?
    public var maxAllowedReleaseVersion: String?
    public var tags: [String]?
    public var metadata: [LicenseMetadata]?
    public var meterAttributes: [LicenseMeterAttribute]?
    /// Deprecated in favour of `subscriptionInterval`; passed through for older exports.
    public var validity: Int32?
    /// Deprecated in favour of `subscriptionStartTrigger`; passed through for older exports.
    public var expirationStrategy: ExpirationStrategy?
    /// An ISO 8601 duration such as `P1Y`, `P6M` or `PT24H`.
    public var subscriptionInterval: String?
    public var subscriptionStartTrigger: SubscriptionStartTrigger?
    /// An RFC 3339 date-time.
    public var expiresAt: String?
    public var leasingStrategy: LeasingStrategy?
    public var userLocked: Bool?
    public var type: LicenseType?
    /// An RFC 3339 date-time: a migrated license's original creation time.
    public var createdAt: String?
    /// An RFC 3339 date-time.
    public var effectiveDate: String?
    public var licenseTemplateId: String?
    /// Deprecated in favour of `licenseTemplateId`; passed through for older exports.
    public var licensePolicyId: String?

    public init(productId: String) {
        self.productId = productId
    }
}

/// One metadata entry of a license (`LicenseMetadataRequestModel`).
public struct LicenseMetadata: Codable, Sendable, Hashable {
    public var key: String
    public var value: String
    public var viewPermissions: [ViewPermission]?
    /// Deprecated by Cryptlex in favour of `viewPermissions`.
    public var visible: Bool?

    public init(key: String, value: String, viewPermissions: [ViewPermission]? = nil, visible: Bool? = nil) {
        self.key = key
        self.value = value
        self.viewPermissions = viewPermissions
        self.visible = visible
    }
}

/// One meter attribute of a license (`LicenseMeterAttributeRequestModel`).
public struct LicenseMeterAttribute: Codable, Sendable, Hashable {
    public var name: String
    public var allowedUses: Int64
    public var viewPermissions: [ViewPermission]?
    public var visible: Bool?
    public var floating: Bool?

    public init(name: String, allowedUses: Int64) {
        self.name = name
        self.allowedUses = allowedUses
    }
}

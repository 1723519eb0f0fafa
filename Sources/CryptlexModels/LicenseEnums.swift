/// The enumerations of the license schema, one type each, with the schema's spellings.

public enum FingerprintMatchingStrategy: String, Codable, Sendable, CaseIterable { case fuzzy, exact, loose }

public enum LeasingStrategy: String, Codable, Sendable, CaseIterable {
    case perMachine = "per-machine"
    case perInstance = "per-instance"
}

public enum LicenseType: String, Codable, Sendable, CaseIterable {
    case nodeLocked = "node-locked"
    case hostedFloating = "hosted-floating"
    case onPremiseFloating = "on-premise-floating"
}

/// Deprecated by Cryptlex in favour of ``SubscriptionStartTrigger``.
public enum ExpirationStrategy: String, Codable, Sendable, CaseIterable { case immediate, delayed, rolling }

public enum SubscriptionStartTrigger: String, Codable, Sendable, CaseIterable { case creation, activation }

public enum ViewPermission: String, Codable, Sendable, CaseIterable { case activation, reseller, organization, user }

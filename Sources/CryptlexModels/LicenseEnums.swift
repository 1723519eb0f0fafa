/// The enumerations of the license schema, one type each, with the schema's spellings.

package enum FingerprintMatchingStrategy: String, Codable, Sendable, CaseIterable { case fuzzy, exact, loose }

package enum LeasingStrategy: String, Codable, Sendable, CaseIterable {
    case perMachine = "per-machine"
    case perInstance = "per-instance"
}

package enum LicenseType: String, Codable, Sendable, CaseIterable {
    case nodeLocked = "node-locked"
    case hostedFloating = "hosted-floating"
    case onPremiseFloating = "on-premise-floating"
}

/// Deprecated by Cryptlex in favour of ``SubscriptionStartTrigger``.
package enum ExpirationStrategy: String, Codable, Sendable, CaseIterable { case immediate, delayed, rolling }

package enum SubscriptionStartTrigger: String, Codable, Sendable, CaseIterable { case creation, activation }

package enum ViewPermission: String, Codable, Sendable, CaseIterable { case activation, reseller, organization, user }

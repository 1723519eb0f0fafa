import CryptlexModels
import Foundation
import TestSupport
import Testing

/// `LicenseRequest.canonicalJSON` writes what `JSONEncoder` (sorted keys, slashes unescaped) writes, byte
/// for byte: the journal fingerprints bodies, and a body an earlier release wrote with
/// `JSONEncoder` must match the same row's body now, or every row of a rerun would look edited.
@Suite("License request bodies")
struct LicenseRequestJSONTests {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    /// Random requests, the same on every run.
    struct Random {
        var generator: SeededGenerator
        mutating func next() -> UInt64 { generator.next() }
        mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
        mutating func coin() -> Bool { below(2) == 0 }
        mutating func maybe<T>(_ make: (inout Random) -> T) -> T? { coin() ? make(&self) : nil }

        /// Every kind of character a body may hold: each control character, the escaped ones,
        /// DEL, a slash, two- to four-byte UTF-8, a line separator.
        static let characters: [Character] =
            (0..<0x20).map { Character(UnicodeScalar(UInt8($0))) }
            + [
                "\"", "\\", "/", "\u{7F}", "é", "ß", "\u{2028}", "😀", "中", " ", "a", "Z", "0", "-", "_", ":", "{", "}",
                "[", "]", ",",
            ]
        mutating func string() -> String {
            String((0..<below(12)).map { _ in Self.characters[below(Self.characters.count)] })
        }
        mutating func strings() -> [String] { (0..<below(4)).map { _ in string() } }
        mutating func permissions() -> [ViewPermission]? {
            maybe { random in (0..<random.below(3)).map { _ in random.pick(ViewPermission.self) } }
        }
        mutating func int32() -> Int32 {
            [Int32.min, -1, 0, 1, Int32.max, Int32(truncatingIfNeeded: next())][below(6)]
        }
        mutating func pick<T: CaseIterable>(_: T.Type) -> T
        where T.AllCases: RandomAccessCollection, T.AllCases.Index == Int {
            T.allCases[below(T.allCases.count)]
        }
    }

    static func request(_ random: inout Random) -> LicenseRequest {
        var request = LicenseRequest(productId: random.string())
        request.key = random.maybe { $0.string() }
        request.revoked = random.maybe { $0.coin() }
        request.suspended = random.maybe { $0.coin() }
        request.fingerprintMatchingStrategy = random.maybe { $0.pick(FingerprintMatchingStrategy.self) }
        request.allowedActivations = random.maybe { $0.int32() }
        request.allowedDeactivations = random.maybe { $0.int32() }
        request.leaseDuration = random.maybe { $0.int32() }
        request.allowClientLeaseDuration = random.maybe { $0.coin() }
        request.allowedFloatingClients = random.maybe { $0.int32() }
        request.serverSyncGracePeriod = random.maybe { $0.int32() }
        request.serverSyncInterval = random.maybe { $0.int32() }
        request.allowedClockOffset = random.maybe { $0.int32() }
        request.disableClockValidation = random.maybe { $0.coin() }
        request.cryptoBindingEnabled = random.maybe { $0.coin() }
        request.expiringSoonEventOffset = random.maybe { $0.int32() }
        request.allowVmActivation = random.maybe { $0.coin() }
        request.allowContainerActivation = random.maybe { $0.coin() }
        request.disableGeoLocation = random.maybe { $0.coin() }
        request.notes = random.maybe { $0.string() }
        request.allowedIpRanges = random.maybe { $0.strings() }
        request.allowedCountries = random.maybe { $0.strings() }
        request.disallowedCountries = random.maybe { $0.strings() }
        request.allowedIpAddresses = random.maybe { $0.strings() }
        request.disallowedIpAddresses = random.maybe { $0.strings() }
        request.userId = random.maybe { $0.string() }
        request.resellerId = random.maybe { $0.string() }
        request.organizationId = random.maybe { $0.string() }
        request.additionalUserIds = random.maybe { $0.strings() }
        request.productVersionId = random.maybe { $0.string() }
        request.entitlementSetId = random.maybe { $0.string() }
        request.maintenancePolicyId = random.maybe { $0.string() }
        request.maxAllowedReleaseVersion = random.maybe { $0.string() }
        request.tags = random.maybe { $0.strings() }
        request.metadata = random.maybe { random in
            (0..<random.below(4)).map { _ in
                LicenseMetadata(
                    key: random.string(), value: random.string(),
                    viewPermissions: random.permissions(),
                    visible: random.maybe { $0.coin() })
            }
        }
        request.meterAttributes = random.maybe { random in
            (0..<random.below(3)).map { _ in
                var attribute = LicenseMeterAttribute(
                    name: random.string(), allowedUses: Int64(bitPattern: random.next()))
                attribute.viewPermissions = random.permissions()
                attribute.visible = random.maybe { $0.coin() }
                attribute.floating = random.maybe { $0.coin() }
                return attribute
            }
        }
        request.validity = random.maybe { $0.int32() }
        request.expirationStrategy = random.maybe { $0.pick(ExpirationStrategy.self) }
        request.subscriptionInterval = random.maybe { $0.string() }
        request.subscriptionStartTrigger = random.maybe { $0.pick(SubscriptionStartTrigger.self) }
        request.expiresAt = random.maybe { $0.string() }
        request.leasingStrategy = random.maybe { $0.pick(LeasingStrategy.self) }
        request.userLocked = random.maybe { $0.coin() }
        request.type = random.maybe { $0.pick(LicenseType.self) }
        request.createdAt = random.maybe { $0.string() }
        request.effectiveDate = random.maybe { $0.string() }
        request.licenseTemplateId = random.maybe { $0.string() }
        request.licensePolicyId = random.maybe { $0.string() }
        return request
    }

    @Test func theBodyIsWhatJSONEncoderWritesByteForByte() throws {
        var random = Random(generator: SeededGenerator(seed: 20_261_203))
        for index in 0..<5_000 {
            let request = Self.request(&random)
            let expected = Array(try Self.encoder.encode(request))
            let written = request.canonicalJSON
            try #require(
                written == expected,
                "request \(index): \(String(decoding: written, as: UTF8.self)) ≠ \(String(decoding: expected, as: UTF8.self))"
            )
        }
    }

    @Test func everyFieldAndEveryEscapeAtOnce() throws {
        var request = LicenseRequest(productId: "p/1")
        request.notes = (0..<0x20).map { String(UnicodeScalar(UInt8($0))) }.joined() + "\"\\/\u{7F}é\u{2028}😀"
        request.tags = []
        request.metadata = [LicenseMetadata(key: "k", value: "v", viewPermissions: [.user, .reseller], visible: false)]
        var attribute = LicenseMeterAttribute(name: "n", allowedUses: .min)
        attribute.floating = true
        request.meterAttributes = [attribute, attribute]
        request.allowedActivations = .min
        request.validity = .max
        #expect(request.canonicalJSON == Array(try Self.encoder.encode(request)))
        #expect(
            String(decoding: request.canonicalJSON, as: UTF8.self).hasPrefix(
                #"{"allowedActivations":-2147483648,"metadata":[{"key":"k","value":"v","viewPermissions":["user","reseller"],"visible":false}],"#
                    + #""meterAttributes":[{"allowedUses":-9223372036854775808,"floating":true,"name":"n"},"#))
    }
}

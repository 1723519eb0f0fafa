/// The canonical JSON of a license request, written by hand: what the journal keeps of a create
/// (``LicenseOperation/journalBytes``) and what a row's fingerprint covers (`RowFingerprint`). The
/// wire does not use it: a request is encoded for its send with `JSONEncoder`
/// (``LicenseOperation/wireBody(userID:organizationID:resellerID:)``), so the wire's encoding can
/// change without touching a journal.
///
/// Byte for byte what `JSONEncoder` writes with `.sortedKeys` and `.withoutEscapingSlashes` (keys in
/// byte order, nil fields left out, `\b \t \n \f \r` and `\u00xx` for other control characters,
/// everything else as its UTF-8), and frozen: a change to these bytes changes every create row's
/// fingerprint, so it needs a journal migration that recomputes them (as v11 did).
/// `LicenseRequestJSONTests` holds it to `JSONEncoder` over thousands of random requests.
///
/// Why by hand: a nightly rerun of a shop's cumulative export fingerprints every row to compare it
/// with the journal (300,000 rows), and `JSONEncoder` takes 11.6 µs a request where this takes 1.0
/// (`scripts/bench-body.sh`); it took half the run's CPU.
extension LicenseRequest {
    /// The request's canonical JSON.
    package var canonicalJSON: [UInt8] {
        var json = JSONBytes()
        json.object {
            $0.field("additionalUserIds", additionalUserIds)
            $0.field("allowClientLeaseDuration", allowClientLeaseDuration)
            $0.field("allowContainerActivation", allowContainerActivation)
            $0.field("allowVmActivation", allowVmActivation)
            $0.field("allowedActivations", allowedActivations)
            $0.field("allowedClockOffset", allowedClockOffset)
            $0.field("allowedCountries", allowedCountries)
            $0.field("allowedDeactivations", allowedDeactivations)
            $0.field("allowedFloatingClients", allowedFloatingClients)
            $0.field("allowedIpAddresses", allowedIpAddresses)
            $0.field("allowedIpRanges", allowedIpRanges)
            $0.field("createdAt", createdAt)
            $0.field("cryptoBindingEnabled", cryptoBindingEnabled)
            $0.field("disableClockValidation", disableClockValidation)
            $0.field("disableGeoLocation", disableGeoLocation)
            $0.field("disallowedCountries", disallowedCountries)
            $0.field("disallowedIpAddresses", disallowedIpAddresses)
            $0.field("effectiveDate", effectiveDate)
            $0.field("entitlementSetId", entitlementSetId)
            $0.field("expirationStrategy", expirationStrategy?.rawValue)
            $0.field("expiresAt", expiresAt)
            $0.field("expiringSoonEventOffset", expiringSoonEventOffset)
            $0.field("fingerprintMatchingStrategy", fingerprintMatchingStrategy?.rawValue)
            $0.field("key", key)
            $0.field("leaseDuration", leaseDuration)
            $0.field("leasingStrategy", leasingStrategy?.rawValue)
            $0.field("licensePolicyId", licensePolicyId)
            $0.field("licenseTemplateId", licenseTemplateId)
            $0.field("maintenancePolicyId", maintenancePolicyId)
            $0.field("maxAllowedReleaseVersion", maxAllowedReleaseVersion)
            if let metadata {
                $0.array("metadata", metadata) { json, entry in
                    json.object {
                        $0.field("key", entry.key)
                        $0.field("value", entry.value)
                        $0.field("viewPermissions", entry.viewPermissions?.map(\.rawValue))
                        $0.field("visible", entry.visible)
                    }
                }
            }
            if let meterAttributes {
                $0.array("meterAttributes", meterAttributes) { json, attribute in
                    json.object {
                        $0.field("allowedUses", attribute.allowedUses)
                        $0.field("floating", attribute.floating)
                        $0.field("name", attribute.name)
                        $0.field("viewPermissions", attribute.viewPermissions?.map(\.rawValue))
                        $0.field("visible", attribute.visible)
                    }
                }
            }
            $0.field("notes", notes)
            $0.field("organizationId", organizationId)
            $0.field("productId", productId)
            $0.field("productVersionId", productVersionId)
            $0.field("resellerId", resellerId)
            $0.field("revoked", revoked)
            $0.field("serverSyncGracePeriod", serverSyncGracePeriod)
            $0.field("serverSyncInterval", serverSyncInterval)
            $0.field("subscriptionInterval", subscriptionInterval)
            $0.field("subscriptionStartTrigger", subscriptionStartTrigger?.rawValue)
            $0.field("suspended", suspended)
            $0.field("tags", tags)
            $0.field("type", type?.rawValue)
            $0.field("userId", userId)
            $0.field("userLocked", userLocked)
            $0.field("validity", validity)
        }
        return json.bytes
    }
}

/// A JSON text written into one byte array, objects with their fields in the order given.
struct JSONBytes {
    var bytes: [UInt8] = []
    /// Whether the next field of the current object needs a comma before it.
    private var separate = false

    init() { bytes.reserveCapacity(384) }

    mutating func object(_ fields: (inout JSONBytes) -> Void) {
        bytes.append(UInt8(ascii: "{"))
        separate = false
        fields(&self)
        bytes.append(UInt8(ascii: "}"))
        separate = true
    }

    mutating func array<Element>(
        _ name: StaticString, _ elements: [Element], _ write: (inout JSONBytes, Element) -> Void
    ) {
        key(name)
        bytes.append(UInt8(ascii: "["))
        for (index, element) in elements.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            write(&self, element)
        }
        bytes.append(UInt8(ascii: "]"))
        separate = true
    }

    mutating func field(_ name: StaticString, _ value: String?) {
        guard let value else { return }
        key(name)
        string(value)
    }

    mutating func field(_ name: StaticString, _ value: [String]?) {
        guard let value else { return }
        key(name)
        bytes.append(UInt8(ascii: "["))
        for (index, element) in value.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            string(element)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    mutating func field(_ name: StaticString, _ value: Bool?) {
        guard let value else { return }
        key(name)
        bytes.append(contentsOf: value ? Self.true : Self.false)
    }

    mutating func field(_ name: StaticString, _ value: Int32?) {
        guard let value else { return }
        key(name)
        bytes.append(contentsOf: String(value).utf8)
    }

    mutating func field(_ name: StaticString, _ value: Int64?) {
        guard let value else { return }
        key(name)
        bytes.append(contentsOf: String(value).utf8)
    }

    private static let `true` = Array("true".utf8)
    private static let `false` = Array("false".utf8)
    private static let hex = Array("0123456789abcdef".utf8)

    private mutating func key(_ name: StaticString) {
        if separate { bytes.append(UInt8(ascii: ",")) }
        separate = true
        bytes.append(UInt8(ascii: "\""))
        name.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
    }

    private mutating func string(_ value: String) {
        bytes.append(UInt8(ascii: "\""))
        var value = value
        value.withUTF8 { utf8 in
            var start = 0
            for index in utf8.indices {
                let byte = utf8[index]
                guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start..<index]))
                start = index + 1
                bytes.append(UInt8(ascii: "\\"))
                switch byte {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"): bytes.append(byte)
                case 0x08: bytes.append(UInt8(ascii: "b"))
                case 0x09: bytes.append(UInt8(ascii: "t"))
                case 0x0A: bytes.append(UInt8(ascii: "n"))
                case 0x0C: bytes.append(UInt8(ascii: "f"))
                case 0x0D: bytes.append(UInt8(ascii: "r"))
                default:
                    bytes.append(contentsOf: [
                        UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), Self.hex[Int(byte >> 4)],
                        Self.hex[Int(byte & 0xF)],
                    ])
                }
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start...]))
        }
        bytes.append(UInt8(ascii: "\""))
    }
}

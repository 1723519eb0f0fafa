import CryptlexModels

/// What a row asks for, fingerprinted to notice a row edited in the file since it was journaled
/// (`license.bodyHash`, `editedHash`; journal v11): computed from the typed operation, never from
/// the bytes a request is sent as — the wire's encoding may change without a row looking edited.
/// 128 bits of FNV-1a (``BodyFingerprint``) over a canonical encoding:
///
/// - a create: `create`, its request's ``LicenseRequest/canonicalJSON`` without the marker (the id
///   column's entry included when the run keeps it), then who the license belongs to: the
///   customer's email key, the organization's and the reseller's name keys;
/// - a change: its action, its target (``LicenseTarget/journalText``), the operation's journal JSON
///   (an update's fields with sorted keys, and whether it links the row's customer), then the
///   customer's email key.
///
/// The planner computes it from a row, the v11 migration from what an entry keeps (its operation
/// without its marker, its references' keys); `RowFingerprintTests` holds the two equal, and the
/// journals of 0.2.0 and of v8 resume with no row taken for an edited one.
package enum RowFingerprint {
    package static func create(
        canonicalRequest: [UInt8], customerKey: String?, organizationKey: String? = nil,
        resellerKey: String? = nil
    ) -> BodyFingerprint.Value {
        var bytes = Array("create".utf8) + [0] + canonicalRequest + [0] + Array((customerKey ?? "").utf8)
        if let organizationKey { bytes += [0, 1] + Array(organizationKey.utf8) }
        if let resellerKey { bytes += [0, 2] + Array(resellerKey.utf8) }
        return BodyFingerprint.value(bytes)
    }

    package static func change(_ operation: LicenseOperation, target: LicenseTarget?, customerKey: String?)
        -> BodyFingerprint.Value
    {
        var bytes =
            Array(operation.action.rawValue.utf8) + [0] + Array((target?.journalText ?? "").utf8) + [0]
            + operation.journalBytes
        if let customerKey { bytes += [0] + Array(customerKey.utf8) }
        return BodyFingerprint.value(bytes)
    }

    /// A create's request as its row asked for it: without the metadata entry whose value is its
    /// `marker` (nil metadata when that was the only one).
    package static func unmarked(_ request: LicenseRequest, marker: String) -> LicenseRequest {
        var request = request
        request.metadata = request.metadata?.filter { $0.value != marker }
        if request.metadata?.isEmpty == true { request.metadata = nil }
        return request
    }

    /// What an entry keeps, fingerprinted as its row would be: a create's operation without its
    /// marker, a change's with its target; the keys of the customer, organization and reseller its
    /// references name.
    package static func of(
        _ operation: LicenseOperation, marker: String, target: LicenseTarget?, customerKey: String?,
        organizationKey: String?, resellerKey: String?
    ) -> BodyFingerprint.Value {
        if case .create(let request) = operation {
            return create(
                canonicalRequest: unmarked(request, marker: marker).canonicalJSON, customerKey: customerKey,
                organizationKey: organizationKey, resellerKey: resellerKey)
        }
        return change(operation, target: target, customerKey: customerKey)
    }
}

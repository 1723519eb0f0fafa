import CryptlexModels
import Foundation

/// What journals up to v8 kept for an entry (its action and the exact body to send, placeholders
/// for its linked ids included), as the ``LicenseOperation`` v9 keeps.
enum LegacyBody {
    static func operation(action text: String, body: [UInt8]) throws -> StoredOperation {
        guard let action = LicenseAction(rawValue: text) else {
            throw UnreadableJournal.unknownValue(text, column: "action", id: nil)
        }
        if action == .create { return try create(body) }
        let fields = body.isEmpty ? [:] : try JSONDecoder().decode([String: JSONAny].self, from: Data(body))
        let operation: LicenseOperation =
            switch action {
            case .create, .update:
                .update(
                    LicenseUpdate(
                        fields: fields.filter { $0.value != .string(LinkPlaceholder.user) },
                        linksCustomer: fields["userId"] == .string(LinkPlaceholder.user)))
            case .renew: .renew
            case .delete: .delete
            case .setExpiry:
                if case .string(let date)? = fields["expiresAt"] {
                    .setExpiry(.date(date))
                } else {
                    .setExpiry(.perpetual)
                }
            case .suspend: .suspend(true)
            case .unsuspend: .suspend(false)
            case .revoke: .revoke(true)
            case .unrevoke: .revoke(false)
            }
        return StoredOperation(operation)
    }

    /// An edited row's body (journals up to v8 kept it without its action: a row may have turned
    /// from a create into a change, or back): a request with a `productId` is a create's, anything
    /// else is read as the entry's action would read it. Only results show it (what differs).
    static func edited(_ body: [UInt8], action: String) throws -> StoredOperation {
        let fields = body.isEmpty ? [:] : try JSONDecoder().decode([String: JSONAny].self, from: Data(body))
        if fields["productId"] != nil { return try create(body) }
        return try operation(
            action: action == LicenseAction.create.rawValue ? LicenseAction.update.rawValue : action, body: body)
    }

    /// A create's body is a `LicenseRequest`'s JSON: it becomes `{"create":…}` without the fields
    /// that held a placeholder. Bytes, not a decode and an encode: a nightly journal holds hundreds
    /// of thousands of them, and licprov wrote every one of them with sorted keys and no spaces.
    private static func create(_ body: [UInt8]) throws -> StoredOperation {
        var request = body
        for (key, placeholder) in [
            ("userId", LinkPlaceholder.user), ("organizationId", LinkPlaceholder.organization),
            ("resellerId", LinkPlaceholder.reseller),
        ] {
            request = removing(field: key, value: placeholder, from: request)
        }
        // A placeholder written some other way (not by licprov's writer): decoded and encoded instead.
        let left = [LinkPlaceholder.user, LinkPlaceholder.organization, LinkPlaceholder.reseller].contains {
            request.firstOffset(of: Array($0.utf8)) != nil
        }
        if !left {
            return StoredOperation(action: .create, bytes: Array(#"{"create":"#.utf8) + request + [UInt8(ascii: "}")])
        }
        var decoded = try JSONDecoder().decode(LicenseRequest.self, from: Data(body))
        if decoded.userId == LinkPlaceholder.user { decoded.userId = nil }
        if decoded.organizationId == LinkPlaceholder.organization { decoded.organizationId = nil }
        if decoded.resellerId == LinkPlaceholder.reseller { decoded.resellerId = nil }
        return StoredOperation(.create(decoded))
    }

    /// `body` without `"key":"value"` and the comma beside it.
    static func removing(field key: String, value: String, from body: [UInt8]) -> [UInt8] {
        let needle = Array("\"\(key)\":\"\(value)\"".utf8)
        guard let start = body.firstOffset(of: needle) else { return body }
        var (begin, end) = (start, start + needle.count)
        if end < body.count, body[end] == UInt8(ascii: ",") {
            end += 1
        } else if begin > 0, body[begin - 1] == UInt8(ascii: ",") {
            begin -= 1
        }
        var result = body
        result.removeSubrange(begin..<end)
        return result
    }
}

/// Stood for the ids of the customer, organization and reseller a license links to in the bodies
/// journals kept up to v8 (filled in at send time); the v9 migration takes them out, and v11's
/// fingerprints no longer cover them. Nothing writes them now.
enum LinkPlaceholder {
    static let user = "licprov-user-placeholder-2b8d41c6e0f5"
    static let organization = "licprov-organization-placeholder-5e0a9d"
    static let reseller = "licprov-reseller-placeholder-c41b7f22"
    /// What stood for a license's marker in the operation an edited row left (up to v10).
    static let marker = "licprov-marker-placeholder-7f3c9e1a"
}

extension Array where Element == UInt8 {
    /// The offset of `needle`'s first occurrence: how the legacy migrations find a placeholder in
    /// bytes licprov wrote (a plain scan: the standard library's `Collection.contains(_:)` took
    /// 21 µs on a 250-byte request where this takes 0.09 µs, swiftc -O, 2026-12-06, and v9 ran it on
    /// every entry of a journal).
    func firstOffset(of needle: [UInt8]) -> Int? {
        guard !needle.isEmpty, count >= needle.count else { return nil }
        for start in 0...(count - needle.count) where self[start] == needle[0] {
            if self[start..<start + needle.count].elementsEqual(needle) { return start }
        }
        return nil
    }
}

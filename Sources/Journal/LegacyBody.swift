import CryptlexModels
import Foundation

/// What journals up to v8 kept for an entry (its action and the exact body to send, placeholders
/// for its linked ids included), as the ``LicenseOperation`` v9 keeps.
enum LegacyBody {
    static func operation(action text: String, body: [UInt8]) throws -> StoredOperation {
        guard let action = LicenseAction(rawValue: text) else { throw UnreadableJournal.unknownValue(text, column: "action", id: nil) }
        if action == .create { return try create(body) }
        let fields = body.isEmpty ? [:] : try JSONDecoder().decode([String: JSONAny].self, from: Data(body))
        let operation: LicenseOperation = switch action {
        case .create, .update:
            .update(LicenseUpdate(fields: fields.filter { $0.value != .string(LinkPlaceholder.user) },
                                  linksCustomer: fields["userId"] == .string(LinkPlaceholder.user)))
        case .renew: .renew
        case .delete: .delete
        case .setExpiry:
            if case .string(let date)? = fields["expiresAt"] { .setExpiry(.date(date)) } else { .setExpiry(.perpetual) }
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
        return try operation(action: action == LicenseAction.create.rawValue ? LicenseAction.update.rawValue : action, body: body)
    }

    /// A create's body is a `LicenseRequest`'s JSON: it becomes `{"create":…}` without the fields
    /// that held a placeholder. Bytes, not a decode and an encode: a nightly journal holds hundreds
    /// of thousands of them, and licprov wrote every one of them with sorted keys and no spaces.
    private static func create(_ body: [UInt8]) throws -> StoredOperation {
        var request = body
        for (key, placeholder) in [("userId", LinkPlaceholder.user), ("organizationId", LinkPlaceholder.organization),
                                   ("resellerId", LinkPlaceholder.reseller)] {
            request = removing(field: key, value: placeholder, from: request)
        }
        // A placeholder written some other way (not by licprov's writer): decoded and encoded instead.
        let left = [LinkPlaceholder.user, LinkPlaceholder.organization, LinkPlaceholder.reseller].contains { request.firstOffset(of: Array($0.utf8)) != nil }
        if !left { return StoredOperation(action: .create, bytes: Array(#"{"create":"#.utf8) + request + [UInt8(ascii: "}")]) }
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

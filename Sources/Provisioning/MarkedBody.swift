import CryptlexAPI
import CryptlexModels

/// The body of a license request with licprov's marker as its last metadata entry.
///
/// A row is encoded once, with a fixed placeholder as the marker's value (the *template*, which is
/// also what the fingerprint covers); each license of the row gets the template with its own
/// marker written over the placeholder.
///
/// Why bytes, and not a `LicenseRequest` kept typed until the wire: the bodies live in the journal
/// (a run of 100,000 licenses holds ids, not bodies), so a typed request would be decoded from the
/// journal and encoded again for every send. Measured (`scripts/bench-body.sh`, release build,
/// 2026-12-03): the splice takes 0.9 µs per license; encoding at send time 2.3 µs with
/// ``LicenseRequest/jsonBody`` (31 µs with `JSONEncoder`); decoding from the journal's JSON and
/// encoding 73 µs. The journal records the exact bytes either way.
enum MarkedBody {
    /// As long as a UUID, and not something a row would hold.
    static let placeholder = Array("licprov-marker-placeholder-7f3c9e1a".utf8)
    /// Stands for the customer's user id until the customer is resolved.
    static let userPlaceholder = "licprov-user-placeholder-2b8d41c6e0f5"

    /// Stand for the organization's and the reseller's ids until they are resolved.
    static let organizationPlaceholder = "licprov-organization-placeholder-5e0a9d"
    static let resellerPlaceholder = "licprov-reseller-placeholder-c41b7f22"

    /// The body with the customer's user id in place of its placeholder.
    static func fill(_ body: [UInt8], userID: String) -> [UInt8] {
        fill(body, placeholder: userPlaceholder, with: userID)
    }

    /// The body with `value` in place of `placeholder` (unchanged when it has none). Ids are
    /// Cryptlex's (letters, digits, dashes): nothing in them needs escaping in JSON.
    static func fill(_ body: [UInt8], placeholder: String, with value: String) -> [UInt8] {
        let needle = Array(placeholder.utf8)
        guard let start = lastRange(of: needle, in: body) else { return body }
        var filled = body
        filled.replaceSubrange(start..<start + needle.count, with: value.utf8)
        return filled
    }

    static func template(_ request: LicenseRequest, markerKey: String?) -> [UInt8] {
        guard let markerKey else { return CryptlexClient.encodedBody(request) }
        var marked = request
        marked.metadata = (request.metadata ?? []) + [LicenseMetadata(key: markerKey, value: String(decoding: placeholder, as: UTF8.self))]
        return CryptlexClient.encodedBody(marked)
    }

    /// The template with `marker` in place of the placeholder (unchanged when it has none).
    static func fill(_ template: [UInt8], marker: String) -> [UInt8] {
        guard let start = lastRange(of: placeholder, in: template) else { return template }
        var body = template
        body.replaceSubrange(start..<start + placeholder.count, with: marker.utf8)
        return body
    }

    private static func lastRange(of needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        var start = haystack.count - needle.count
        while start >= 0 {
            if haystack[start] == needle[0] && haystack[start..<start + needle.count].elementsEqual(needle) { return start }
            start -= 1
        }
        return nil
    }
}

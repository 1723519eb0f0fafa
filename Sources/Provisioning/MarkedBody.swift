import CryptlexAPI
import CryptlexModels
import Journal

/// A create's request with licprov's marker as its last metadata entry.
///
/// A row is encoded once, with a fixed placeholder as the marker's value (the *template*); each
/// license of the row gets the template's operation with its own marker written over the
/// placeholder (0.9 µs a license, where encoding each would take 2.3 µs with
/// ``LicenseRequest/jsonBody`` and 31 µs with `JSONEncoder`: `scripts/bench-body.sh`, 2026-12-03).
///
/// The row's *fingerprint* covers the template as journals up to v8 kept it, with placeholders
/// for the linked ids (``LinkPlaceholder``): a row journaled by an earlier release keeps its
/// fingerprint, so a rerun does not take it for an edited row.
enum MarkedBody {
    /// As long as a UUID, and not something a row would hold.
    static let placeholder = Array("licprov-marker-placeholder-7f3c9e1a".utf8)

    /// `request` with the marker's placeholder as its last metadata entry.
    static func marked(_ request: LicenseRequest, markerKey: String?, marker: String? = nil) -> LicenseRequest {
        guard let markerKey else { return request }
        var marked = request
        marked.metadata = (request.metadata ?? []) + [LicenseMetadata(key: markerKey, value: marker ?? String(decoding: placeholder, as: UTF8.self))]
        return marked
    }

    /// What the fingerprint covers: the marked request with placeholders for the ids it links to.
    static func fingerprinted(_ request: LicenseRequest, markerKey: String?, user: Bool, organization: Bool, reseller: Bool) -> [UInt8] {
        var linked = request
        if user { linked.userId = LinkPlaceholder.user }
        if organization { linked.organizationId = LinkPlaceholder.organization }
        if reseller { linked.resellerId = LinkPlaceholder.reseller }
        return CryptlexClient.encodedBody(marked(linked, markerKey: markerKey))
    }

    /// The template with `marker` in place of the placeholder (unchanged when it has none).
    static func fill(_ template: [UInt8], marker: String) -> [UInt8] {
        guard let start = template.lastOffset(of: placeholder) else { return template }
        var body = template
        body.replaceSubrange(start..<start + placeholder.count, with: marker.utf8)
        return body
    }
}

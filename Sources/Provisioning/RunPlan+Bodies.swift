import CryptlexAPI
import CryptlexModels
import Foundation
import Ingestion
import Journal
import Scheduling

/// What the planner journals for a row — its operation: a create's request with the marker's
/// placeholder, a change's fields — and what the row's fingerprint covers, and how a dry run shows
/// a request.
extension RunPlanner {
    /// `POST /v3/licenses {…}`, or for a change `PATCH /v3/licenses/{order_id=B-7} {"revoked":true}`
    /// (the linked ids are resolved when it is sent: a dry run shows the request without them).
    static func describe(_ request: (operation: LicenseOperation, target: LicenseTarget?)) -> String {
        let body = String(decoding: request.operation.wireBody(), as: UTF8.self)
        let license = "/v3/licenses/{\(request.target?.description ?? "?")}"
        return switch request.operation {
        case .create: "POST /v3/licenses \(body)"
        case .renew: "POST \(license)/renew"
        case .delete: "DELETE \(license)"
        case .setExpiry: "PATCH \(license)/expires-at \(body)"
        case .update, .suspend, .revoke: "PATCH \(license) \(body)"
        }
    }

    /// A change row's operation: an update's fields (and whether it links the license to the row's
    /// customer), the new expiry, the flag; nothing more for renew and delete.
    static func changeOperation(for row: OrderRow) -> LicenseOperation {
        switch row.action {
        case .create, .update:
            let full = (try? JSONDecoder().decode([String: JSONAny].self, from: Data(CryptlexClient.encodedBody(row.request)))) ?? [:]
            return .update(LicenseUpdate(fields: full.filter { row.changedFields.contains($0.key) }, linksCustomer: row.customer != nil))
        case .renew: return .renew
        case .delete: return .delete
        case .suspend: return .suspend(true)
        case .unsuspend: return .suspend(false)
        case .revoke: return .revoke(true)
        case .unrevoke: return .revoke(false)
        case .setExpiry: return .setExpiry(row.expiry ?? .perpetual)
        }
    }

    /// What a change row's fingerprint covers: the body journals up to v8 kept (written as they
    /// wrote it, so a row journaled by an earlier release keeps its fingerprint).
    static func changeFingerprint(for row: OrderRow) -> [UInt8] {
        func json(_ object: [String: Any]) -> [UInt8] {
            Array((try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data())
        }
        switch row.action {
        case .create, .renew, .delete: return []
        case .suspend: return json(["suspended": true])
        case .unsuspend: return json(["suspended": false])
        case .revoke: return json(["revoked": true])
        case .unrevoke: return json(["revoked": false])
        case .setExpiry:
            if case .date(let date)? = row.expiry { return json(["expiresAt": date]) }
            return json(["expiresAt": NSNull()])
        case .update:
            let full = (try? JSONSerialization.jsonObject(with: Data(CryptlexClient.encodedBody(row.request)))) as? [String: Any] ?? [:]
            var fields = full.filter { row.changedFields.contains($0.key) }
            if row.customer != nil { fields["userId"] = LinkPlaceholder.user }
            return json(fields)
        }
    }

    /// A create row's request as the journal keeps it: the id column's value rides along as
    /// metadata; the linked ids are the entry's references, filled in at send time.
    static func request(for row: OrderRow, configuration: RunConfiguration) -> LicenseRequest {
        var request = row.request
        if let idColumn = configuration.ingest.idColumn, row.idIsFromColumn, configuration.keepIDAsMetadata {
            request.metadata = (request.metadata ?? []) + [LicenseMetadata(key: idColumn, value: row.rowID)]
        }
        return request
    }

    /// What a create row's fingerprint covers, encoded once (in the reader's parallel stage): the
    /// request with the marker's placeholder and placeholders for the ids it links to.
    static func template(for row: OrderRow, configuration: RunConfiguration) -> [UInt8] {
        MarkedBody.fingerprinted(request(for: row, configuration: configuration), markerKey: configuration.markerKey,
                                 user: row.customer != nil, organization: row.organization != nil, reseller: row.reseller != nil)
    }

    /// A create row's operation with the marker's placeholder (each license gets its own marker
    /// spliced in: ``StoredOperation/filled(_:)``).
    static func createTemplate(for row: OrderRow, configuration: RunConfiguration) -> StoredOperation {
        StoredOperation(.create(MarkedBody.marked(request(for: row, configuration: configuration), markerKey: configuration.markerKey)))
    }

    /// A create row's operation with `marker`.
    static func createOperation(for row: OrderRow, configuration: RunConfiguration, marker: String) -> LicenseOperation {
        .create(MarkedBody.marked(request(for: row, configuration: configuration), markerKey: configuration.markerKey, marker: marker))
    }
}

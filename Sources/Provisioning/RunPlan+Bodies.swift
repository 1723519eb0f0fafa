import CryptlexAPI
import CryptlexModels
import Foundation
import Ingestion
import Journal
import Scheduling

/// The bodies the planner journals: a create's template (placeholders for the marker and the
/// linked ids), a change's body, and how a dry run shows a request.
extension RunPlanner {
    /// `POST /v3/licenses {…}`, or for a change `PATCH /v3/licenses/{order_id=B-7} {"revoked":true}`.
    static func describe(_ request: (action: LicenseAction, target: LicenseTarget?, body: [UInt8])) -> String {
        let body = String(decoding: request.body, as: UTF8.self)
        let license = "/v3/licenses/{\(request.target?.description ?? "?")}"
        return switch request.action {
        case .create: "POST /v3/licenses \(body)"
        case .renew: "POST \(license)/renew"
        case .delete: "DELETE \(license)"
        case .setExpiry: "PATCH \(license)/expires-at \(body)"
        default: "PATCH \(license) \(body)"
        }
    }

    /// The body a change sends: the fields of an update, `{"expiresAt":…}` for set-expiry, the
    /// flag for suspend, unsuspend, revoke and unrevoke; nothing for renew and delete.
    static func changeBody(for row: OrderRow) -> [UInt8] {
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
            if row.customer != nil { fields["userId"] = MarkedBody.userPlaceholder }
            return json(fields)
        }
    }

    /// The row's body with placeholders, encoded once (in the reader's parallel stage): the
    /// marker's value is a placeholder, filled in per license; so is a customer's user id, filled
    /// in when the customer is resolved. The id column's value rides along as metadata.
    static func template(for row: OrderRow, configuration: RunConfiguration) -> [UInt8] {
        var request = row.request
        if row.customer != nil { request.userId = MarkedBody.userPlaceholder }
        if row.organization != nil { request.organizationId = MarkedBody.organizationPlaceholder }
        if row.reseller != nil { request.resellerId = MarkedBody.resellerPlaceholder }
        if let idColumn = configuration.ingest.idColumn, row.idIsFromColumn, configuration.keepIDAsMetadata {
            request.metadata = (request.metadata ?? []) + [LicenseMetadata(key: idColumn, value: row.rowID)]
        }
        return MarkedBody.template(request, markerKey: configuration.markerKey)
    }
}

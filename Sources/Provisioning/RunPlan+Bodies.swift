import CryptlexAPI
import CryptlexModels
import Foundation
import Ingestion
import Journal
import Scheduling

/// What the planner journals for a row — its operation: a create's request with each license's
/// marker, a change's fields — and the row's fingerprint (``RowFingerprint``), and how a dry run
/// shows a request.
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
            let full = LicenseFields.decode(row.request.canonicalJSON) ?? [:]
            return .update(
                LicenseUpdate(
                    fields: full.filter { row.changedFields.contains($0.key) }, linksCustomer: row.customer != nil))
        case .renew: return .renew
        case .delete: return .delete
        case .suspend: return .suspend(true)
        case .unsuspend: return .suspend(false)
        case .revoke: return .revoke(true)
        case .unrevoke: return .revoke(false)
        case .setExpiry: return .setExpiry(row.expiry ?? .perpetual)
        }
    }

    /// A change row's fingerprint: its operation, target and customer (``RowFingerprint``).
    static func changeFingerprint(for row: OrderRow) -> BodyFingerprint.Value {
        RowFingerprint.change(
            changeOperation(for: row), target: row.target,
            customerKey: row.customer.map { CustomerRecord.key($0.email) })
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

    /// A create row's request as its fingerprint covers it, encoded once (in the reader's parallel
    /// stage): without the marker; the linked ids are not in it (the owners' keys are).
    static func canonicalRequest(for row: OrderRow, configuration: RunConfiguration) -> [UInt8] {
        request(for: row, configuration: configuration).canonicalJSON
    }

    /// A create row's fingerprint, from its ``canonicalRequest(for:configuration:)`` and its owners.
    static func createFingerprint(for row: OrderRow, canonicalRequest: [UInt8]) -> BodyFingerprint.Value {
        RowFingerprint.create(
            canonicalRequest: canonicalRequest, customerKey: row.customer.map { CustomerRecord.key($0.email) },
            organizationKey: row.organization.map { DirectoryName.key($0.name) },
            resellerKey: row.reseller.map { DirectoryName.key($0.name) })
    }

    /// `request` with licprov's marker as its last metadata entry (unchanged without a marker key).
    static func marked(_ request: LicenseRequest, markerKey: String?, marker: String) -> LicenseRequest {
        guard let markerKey else { return request }
        var marked = request
        marked.metadata = (request.metadata ?? []) + [LicenseMetadata(key: markerKey, value: marker)]
        return marked
    }

    /// A create row's operation with `marker`: what the journal keeps for one of its licenses.
    static func createOperation(for row: OrderRow, configuration: RunConfiguration, marker: String) -> LicenseOperation
    {
        .create(
            marked(request(for: row, configuration: configuration), markerKey: configuration.markerKey, marker: marker))
    }
}

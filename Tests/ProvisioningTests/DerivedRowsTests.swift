import CryptlexModels
import Foundation
import Ingestion
import TestSupport
import Testing

@testable import Audit
@testable import Provisioning
@testable import Sync

/// apply's, undo's and fix-duplicates' rows go to the engine typed. Before 0.3.1 they went as
/// NDJSON, written and read back through the file reader: an apply or undo killed under that
/// build and resumed under this one must find every row it journaled unchanged. So each typed row
/// is held to the row the old NDJSON became — same id, action, target, operation and fingerprint.
@Suite("Derived rows, typed")
struct DerivedRowsTests {
    static let markerKey = RunConfiguration.defaultMarkerKey

    /// A plan with a step of every kind: creates with a customer, an organization under a reseller,
    /// metadata and dates; an update of seats, metadata and the customer; set-expiry to a date and to
    /// perpetual; revoke, unrevoke, suspend, unsuspend, delete.
    static func plan() -> SyncPlan {
        var plan = SyncPlan(idColumn: "order_id", products: ["prod-1"])
        var request = LicenseRequest(productId: "prod-1")
        request.allowedActivations = 3
        request.expiresAt = "2027-01-31T00:00:00.000Z"
        request.notes = "a \"quoted\" note, with a comma"
        request.metadata = [LicenseMetadata(key: "plan", value: "pro"), LicenseMetadata(key: "order_id", value: "O-1")]
        request.tags = ["a", "b"]
        var organization = OrganizationRequest(
            name: "Acme GmbH", email: "it@acme.example", allowedUsers: 5, description: "end customer")
        organization.address = .init(addressLine1: "Hauptstr. 1", city: "Berlin", country: "DE", postalCode: "10115")
        let reseller = ResellerRequest(
            name: "Resell Ltd", email: "ops@resell.example", allowedUsers: 10, allowedOrganizations: 20)
        plan.steps.append(
            SyncPlan.Step(
                kind: .create, order: "O-1", sourceLine: 2, unit: 1, request: request,
                customer: Customer(email: "ana@example.com", firstName: "Ana", lastName: "Silva", company: "Acme"),
                organization: organization, reseller: reseller))
        var plain = LicenseRequest(productId: "prod-1")
        plain.metadata = [LicenseMetadata(key: "order_id", value: "O-2")]
        plan.steps.append(SyncPlan.Step(kind: .create, order: "O-2", sourceLine: 3, unit: 2, request: plain))
        let entries: JSONAny = .array([
            .object(["key": .string("licprov_request"), "value": .string("lp-1")]),
            .object(["key": .string("order_id"), "value": .string("O-3")]),
            .object(["key": .string("plan"), "value": .string("max")]),
        ])
        plan.steps.append(
            SyncPlan.Step(
                kind: .update, order: "O-3", sourceLine: 4, licenseID: "lic-3",
                fields: [
                    .init(name: "allowedActivations", old: .number(1), new: .number(5)),
                    .init(name: "metadata", old: .array([]), new: entries),
                    .init(name: "email", old: .string("old@example.com"), new: .string("new@example.com")),
                ],
                customer: Customer(email: "new@example.com", firstName: "Nina"),
                licenseUpdatedAt: "2026-12-01T00:00:00Z"))
        plan.steps.append(
            SyncPlan.Step(
                kind: .setExpiry, order: "O-4", sourceLine: 5, licenseID: "lic-4",
                fields: [.init(name: "expiresAt", old: .null, new: .string("2028-02-29T12:00:00.000Z"))],
                licenseUpdatedAt: "u4"))
        plan.steps.append(
            SyncPlan.Step(
                kind: .setExpiry, order: "O-5", sourceLine: 6, licenseID: "lic-5",
                fields: [.init(name: "expiresAt", old: .string("2027-01-01T00:00:00Z"), new: .null)],
                licenseUpdatedAt: "u5"))
        for (index, kind) in [SyncPlan.Step.Kind.revoke, .unrevoke, .suspend, .unsuspend, .delete].enumerated() {
            plan.steps.append(
                SyncPlan.Step(
                    kind: kind, order: "O-\(6 + index)", licenseID: "lic-\(6 + index)", prune: kind == .delete,
                    licenseUpdatedAt: "u\(6 + index)"))
        }
        return plan
    }

    /// The NDJSON 0.3.0 wrote for a plan (its `SyncPlan.ndjson` and `directoryColumns`, kept here as
    /// they were, for this comparison).
    static func legacyNDJSON(_ plan: SyncPlan) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var bytes: [UInt8] = []
        for step in plan.steps {
            var row: [String: JSONAny]
            var customer: [String: JSONAny] = [:]
            if let who = step.customer {
                customer["email"] = .string(who.email)
                for (name, value) in [
                    ("firstName", who.firstName), ("lastName", who.lastName), ("company", who.company),
                ] {
                    if let value { customer[name] = .string(value) }
                }
            }
            switch step.kind {
            case .create:
                row = LicenseFields.decode(step.request?.canonicalJSON ?? []) ?? [:]
                row.merge(customer) { _, new in new }
                if let organization = step.organization {
                    row["organization.name"] = .string(organization.name)
                    row["organization.email"] = .string(organization.email)
                    row["organization.allowedUsers"] = .string(String(organization.allowedUsers))
                    if let value = organization.description { row["organization.description"] = .string(value) }
                    if let address = organization.address {
                        for (name, value) in [
                            ("addressLine1", address.addressLine1), ("addressLine2", address.addressLine2),
                            ("city", address.city),
                            ("state", address.state), ("country", address.country), ("postalCode", address.postalCode),
                        ] {
                            if let value { row["organization.address.\(name)"] = .string(value) }
                        }
                    }
                }
                if let reseller = step.reseller {
                    row["reseller.name"] = .string(reseller.name)
                    row["reseller.email"] = .string(reseller.email)
                    row["reseller.allowedUsers"] = .string(String(reseller.allowedUsers))
                    row["reseller.allowedOrganizations"] = .string(String(reseller.allowedOrganizations))
                }
            case .update:
                row = ["action": .string("update"), "licenseId": .string(step.licenseID ?? "")]
                for field in step.fields { row[field.name] = field.new }
                for (name, value) in customer where row[name] == nil { row[name] = value }
            case .setExpiry:
                let expiry = step.fields.first?.new ?? .null
                row = [
                    "action": .string("set-expiry"), "licenseId": .string(step.licenseID ?? ""),
                    "expiresAt": expiry == .null ? .string("perpetual") : expiry,
                ]
            default:
                row = ["action": .string(step.kind.rawValue), "licenseId": .string(step.licenseID ?? "")]
            }
            row[SyncPlan.syncIDColumn] = .string(step.syncID)
            bytes += Array((try? encoder.encode(row)) ?? Data()) + [0x0A]
        }
        return bytes
    }

    /// The rows 0.3.0's derived run read from `ndjson` (its flags: `--id-column ID --no-id-metadata`).
    static func legacyRows(_ ndjson: [UInt8], idColumn: String) throws -> [OrderRow] {
        let file = try ScratchRoot.directory("licprov-derived").appendingPathComponent("rows.ndjson")
        try Data(ndjson).write(to: file)
        var options = IngestOptions(idColumn: idColumn)
        options.markerKey = markerKey
        options.keepIDAsMetadata = false
        var rows: [OrderRow] = []
        try OrderFileReader(path: file.path, options: options).read { rows.append($0) }
        return rows
    }

    static func expectSame(_ typed: [OrderRow], _ legacy: [OrderRow], idColumn: String) {
        var configuration = RunConfiguration(inputPath: "rows", ingest: IngestOptions(idColumn: idColumn))
        configuration.keepIDAsMetadata = false
        #expect(typed.count == legacy.count)
        for (new, old) in zip(typed, legacy) {
            #expect(old.isValid, "\(old.rowID): \(old.diagnostics)")
            #expect(new.isValid, "\(new.rowID): \(new.diagnostics)")
            #expect(new.rowID == old.rowID)
            #expect(new.action == old.action && new.target == old.target && new.expiry == old.expiry, "\(new.rowID)")
            #expect(new.position.line == old.position.line, "\(new.rowID)")
            #expect(
                new.customer == old.customer && new.organization == old.organization && new.reseller == old.reseller,
                "\(new.rowID)")
            if new.action == .create {
                #expect(new.request == old.request, "\(new.rowID)")
                let fingerprint = { (row: OrderRow) in
                    RunPlanner.createFingerprint(
                        for: row, canonicalRequest: RunPlanner.canonicalRequest(for: row, configuration: configuration))
                }
                #expect(fingerprint(new) == fingerprint(old), "\(new.rowID): the fingerprint changed")
            } else {
                #expect(RunPlanner.changeOperation(for: new) == RunPlanner.changeOperation(for: old), "\(new.rowID)")
                #expect(
                    RunPlanner.changeFingerprint(for: new) == RunPlanner.changeFingerprint(for: old),
                    "\(new.rowID): the fingerprint changed")
            }
        }
    }

    @Test func applysTypedRowsAreTheRowsItsNDJSONWas() throws {
        let plan = Self.plan()
        let typed = plan.rows()
        #expect(
            typed.map(\.action) == [
                .create, .create, .update, .setExpiry, .setExpiry, .revoke, .unrevoke, .suspend, .unsuspend, .delete,
            ])
        Self.expectSame(
            typed, try Self.legacyRows(Self.legacyNDJSON(plan), idColumn: SyncPlan.syncIDColumn),
            idColumn: SyncPlan.syncIDColumn)
    }

    @Test func undosTypedRowsAreTheRowsItsNDJSONWas() throws {
        // The fields undo restores, as a license snapshot has them (userId links the customer back).
        let fields: [String: JSONAny] = [
            "allowedActivations": .number(1), "suspended": .bool(false), "userId": .string("user-9"),
            "metadata": .array([.object(["key": .string("licprov_request"), "value": .string("lp-2")])]),
        ]
        let typed: [OrderRow] = [
            .derivedChange(rowID: "undo-1", line: 1, licenseID: "lic-1", action: .delete),
            .derivedChange(
                rowID: "undo-2-expiry", line: 2, licenseID: "lic-2", action: .setExpiry,
                expiry: .date("2027-01-31T00:00:00.000Z")),
            .derivedChange(rowID: "undo-3-expiry", line: 3, licenseID: "lic-3", action: .setExpiry, expiry: .perpetual),
            .derivedChange(rowID: "undo-4", line: 4, licenseID: "lic-4", action: .update, fields: fields),
        ]
        // 0.3.0's UndoPlan rows, as it wrote them.
        var ndjson = #"{"action":"delete","licenseId":"lic-1","undo_id":"undo-1"}"# + "\n"
        ndjson +=
            #"{"action":"set-expiry","expiresAt":"2027-01-31T00:00:00.000Z","licenseId":"lic-2","undo_id":"undo-2-expiry"}"#
            + "\n"
        ndjson +=
            #"{"action":"set-expiry","expiresAt":"perpetual","licenseId":"lic-3","undo_id":"undo-3-expiry"}"# + "\n"
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var update = fields
        update["action"] = .string("update")
        update["licenseId"] = .string("lic-4")
        update["undo_id"] = .string("undo-4")
        ndjson += String(decoding: try encoder.encode(update), as: UTF8.self) + "\n"
        Self.expectSame(
            typed, try Self.legacyRows(Array(ndjson.utf8), idColumn: UndoPlan.idColumn), idColumn: UndoPlan.idColumn)
    }

    @Test func aFieldAnUpdateCannotCarryIsAnErrorNotDropped() {
        let row = OrderRow.derivedChange(
            rowID: "undo-5", line: 1, licenseID: "lic-5", action: .update,
            fields: ["allowedActivations": .number(2), "noSuchField": .string("x")])
        #expect(!row.isValid)
        #expect(row.diagnostics.contains { $0.field == "noSuchField" })
    }
}

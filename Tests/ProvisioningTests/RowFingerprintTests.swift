import CryptlexModels
import Foundation
import GRDB
import Ingestion
import Journal
import TestSupport
import Testing

@testable import Provisioning

/// A row's fingerprint is computed twice: by the planner from the row, and by the v11 migration
/// from what the journal keeps of it. If the two ever disagreed, every row of an upgraded journal
/// would look edited (a settled one reported as a conflict). So the planner's is held to the
/// migration's for every kind of row, and a changed row to a changed fingerprint.
@Suite("Row fingerprints")
struct RowFingerprintTests {
    static let file = """
        order_id,productId,allowedActivations,notes,email,firstName,organization.name,organization.email,reseller.name,reseller.email,metadata.plan,action,licenseId,expiresAt,revoked
        O-1,prod-1,2,first,ana@example.com,Ana,Acme GmbH,it@acme.example,Resell Ltd,ops@resell.example,pro,,,,
        O-2,prod-1,1,,,,,,,,,,,,
        O-3,prod-1,5,"quoted ""note"", with a comma",Bo@Example.com,,,,,,max,,,,
        C-1,,7,,new@example.com,Nina,,,,,,update,lic-1,,
        C-2,,,,,,,,,,,set-expiry,lic-2,2027-01-31T00:00:00Z,
        C-3,,,,,,,,,,,revoke,lic-3,,
        C-4,,,,,,,,,,,renew,lic-4,,
        """

    /// Registers `text` (nothing sent) and returns each entry's stored fingerprint beside the one
    /// the v11 migration computes from what the entry keeps.
    static func fingerprints(_ text: String) async throws -> [String: (stored: String, recomputed: String)] {
        try await withRunBench { bench in
            try bench.write(text + "\n")
            let configuration = bench.configuration(idColumn: "order_id")
            try await bench.registerWithoutSending(configuration)
            let journal = try SQLiteJournal(path: configuration.journalPath)
            let rows = try DatabaseQueue(path: configuration.journalPath).read { db in
                try Row.fetchAll(
                    db,
                    sql: """
                        SELECT license.rowID, customer.emailKey, organization.nameKey, reseller.nameKey FROM license
                        LEFT JOIN customer ON customer.id = license.customerRef
                        LEFT JOIN directory AS organization ON organization.id = license.organizationRef
                        LEFT JOIN directory AS reseller ON reseller.id = license.resellerRef
                        """)
            }
            let keys = Dictionary(
                uniqueKeysWithValues: rows.map {
                    ($0[0] as String, ($0[1] as String?, $0[2] as String?, $0[3] as String?))
                })
            var result: [String: (String, String)] = [:]
            for entry in try journal.allEntries() {
                let operation = try #require(entry.operation)
                let key = keys[entry.rowID]
                let recomputed = RowFingerprint.of(
                    operation, marker: entry.marker, target: entry.target, customerKey: key?.0 ?? nil,
                    organizationKey: key?.1 ?? nil, resellerKey: key?.2 ?? nil)
                result[entry.rowID] = (entry.bodyHash, recomputed.hex)
            }
            return result
        }
    }

    @Test func thePlannersFingerprintIsTheMigrations() async throws {
        let found = try await Self.fingerprints(Self.file)
        #expect(found.count == 7)
        for (row, pair) in found {
            #expect(pair.stored == pair.recomputed, "\(row): the planner and the migration disagree")
        }
    }

    @Test func aRowEditedInAnyWayHasAnotherFingerprint() async throws {
        let before = try await Self.fingerprints(Self.file)
        let edits = [
            ("O-1,prod-1,2,first,ana@example.com", "O-1,prod-1,3,first,ana@example.com"),  // a field
            ("ana@example.com,Ana,Acme GmbH", "ana@example.com,Ana,Acme AG"),  // the organization
            ("O-2,prod-1,1,,,,", "O-2,prod-1,1,,x@example.com,,"),  // a customer
            ("pro,,,,", "basic,,,,"),  // metadata
            (
                "C-2,,,,,,,,,,,set-expiry,lic-2,2027-01-31T00:00:00Z",
                "C-2,,,,,,,,,,,set-expiry,lic-2,2027-02-28T00:00:00Z"
            ),
            ("C-3,,,,,,,,,,,revoke,lic-3", "C-3,,,,,,,,,,,revoke,lic-9"),  // the target
            ("new@example.com,Nina", "other@example.com,Nina"),  // an update's customer
        ]
        for (old, new) in edits {
            let after = try await Self.fingerprints(Self.file.replacingOccurrences(of: old, with: new))
            let changed = after.filter { before[$0.key]?.stored != $0.value.stored }.map(\.key)
            #expect(changed.count == 1, "\(new): \(changed)")
        }
    }
}

import CryptlexModels
import Foundation
import GRDB
import TestSupport
import Testing

@testable import Journal

/// The journal keeps each entry's ``LicenseOperation`` typed (its `Codable` JSON), and the v9
/// migration turns the bodies of journals up to v8 into operations.
@Suite("typed operations in the journal")
struct OperationStorageTests {
    static let v8 = "v8: licenses by their Cryptlex id"

    static var request: LicenseRequest {
        var request = LicenseRequest(productId: "prod-1")
        request.key = "KEY-1"
        request.allowedActivations = 3
        request.notes = "line\nbreak \"quoted\" / ü"
        request.metadata = [
            LicenseMetadata(key: "order_id", value: "O-1"), LicenseMetadata(key: "licprov_request", value: "lp-abc-1"),
        ]
        return request
    }

    static let every: [LicenseOperation] = [
        .create(request), .create(LicenseRequest(productId: "p")),
        .update(LicenseUpdate(fields: ["allowedActivations": .number(5), "notes": .string("x")], linksCustomer: true)),
        .update(LicenseUpdate(fields: ["tags": .array([.string("a")])])),
        .renew, .delete, .setExpiry(.date("2027-01-01T00:00:00Z")), .setExpiry(.perpetual),
        .suspend(true), .suspend(false), .revoke(true), .revoke(false),
    ]

    /// What the journal writes is the `Codable` encoding (a create's written by licprov's own
    /// writer, byte for byte what `JSONEncoder` writes), and reads back as the same operation.
    @Test func everyOperationIsStoredAsItsCodableJSONAndReadBack() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        for operation in Self.every {
            #expect(operation.journalBytes == Array(try encoder.encode(operation)), "\(operation)")
            #expect(try LicenseOperation(journalBytes: operation.journalBytes) == operation)
            #expect(StoredOperation(operation).action == operation.action)
        }
        #expect(
            String(decoding: LicenseOperation.setExpiry(.perpetual).journalBytes, as: UTF8.self)
                == #"{"setExpiry":{"expiresAt":null}}"#)
        #expect(String(decoding: LicenseOperation.revoke(false).journalBytes, as: UTF8.self) == #"{"revoke":false}"#)
        #expect(Set(Self.every.map(\.action)) == Set(LicenseAction.allCases))
        for text in [#"{}"#, #"{"renew":{},"delete":{}}"#, #"{"archive":{}}"#, #"{"create":{}}"#] {
            #expect(throws: DecodingError.self, "\(text)") { try LicenseOperation(journalBytes: Array(text.utf8)) }
        }
    }

    /// The request goes out with the ids it links to, resolved at send time; the PATCH bodies are
    /// the fields the change sets.
    @Test func theWireBodyIsEncodedWithTheLinkedIDs() throws {
        let body = LicenseOperation.create(Self.request).wireBody(userID: "U-1", organizationID: "G-1")
        let sent = try JSONDecoder().decode(LicenseRequest.self, from: Data(body))
        var expected = Self.request
        expected.userId = "U-1"
        expected.organizationId = "G-1"
        #expect(sent == expected)
        let update = LicenseOperation.update(
            LicenseUpdate(fields: ["allowedActivations": .number(5)], linksCustomer: true))
        #expect(
            String(decoding: update.wireBody(userID: "U-2"), as: UTF8.self)
                == #"{"allowedActivations":5,"userId":"U-2"}"#)
        #expect(String(decoding: update.wireBody(), as: UTF8.self) == #"{"allowedActivations":5}"#)
        #expect(String(decoding: LicenseOperation.suspend(true).wireBody(), as: UTF8.self) == #"{"suspended":true}"#)
        #expect(
            String(decoding: LicenseOperation.setExpiry(.perpetual).wireBody(), as: UTF8.self) == #"{"expiresAt":null}"#
        )
        #expect(LicenseOperation.renew.wireBody().isEmpty && LicenseOperation.delete.wireBody().isEmpty)
    }

    /// A create goes out as its typed request encoded at the send, with the ids it links to:
    /// whatever the ids hold (quotes, backslashes), each member once, the request's own marker kept.
    @Test func aCreateIsSentAsItsTypedRequestWithTheLinkedIDs() throws {
        var withOwnUser = Self.request
        withOwnUser.userId = "U-own"
        for request in [Self.request, LicenseRequest(productId: "p"), withOwnUser] {
            let stored = try LicenseOperation(journalBytes: LicenseOperation.create(request).journalBytes)
            #expect(stored == .create(request))
            for (user, organization, reseller) in [
                ("U-1", nil, nil), (nil, "G-1", "R-1"), ("3f2a-B9", "G-1", "R-1"), ("a\"b", nil, "R \\ 1"),
            ] as [(String?, String?, String?)] {
                let body = stored.wireBody(userID: user, organizationID: organization, resellerID: reseller)
                let sent = try JSONDecoder().decode(LicenseRequest.self, from: Data(body))
                var expected = request
                if let user { expected.userId = user }
                if let organization { expected.organizationId = organization }
                if let reseller { expected.resellerId = reseller }
                #expect(sent == expected, "\(request) \(String(describing: user))")
                // Decoding keeps one of two members with the same name: count them in the bytes.
                #expect(
                    body.ranges(of: Array(#""userId":"#.utf8)).count == (request.userId != nil || user != nil ? 1 : 0),
                    "one userId, never the request's and the link's")
            }
        }
    }

    /// The byte search the legacy migrations find placeholders with.
    @Test func theLegacyByteSearchFindsTheFirstOccurrence() {
        let text = Array("ab-xy-ab-xy".utf8)
        #expect(text.firstOffset(of: Array("ab".utf8)) == 0 && text.firstOffset(of: Array("xy".utf8)) == 3)
        #expect(
            text.firstOffset(of: Array("yx".utf8)) == nil && text.firstOffset(of: Array("ab-xy-ab-xy!".utf8)) == nil)
        #expect(text.firstOffset(of: []) == nil && [UInt8]().firstOffset(of: Array("a".utf8)) == nil)
    }

    /// A journal at v8, as the previous release wrote it (bodies with placeholders for the linked
    /// ids, an edited row's body, changes by action), opens as the current journal: every entry
    /// typed (v9) and fingerprinted from its operation (v11), the old columns gone.
    @Test func aV8JournalsBodiesBecomeOperations() throws {
        let path = try SQLiteJournalTests.temporaryPath()
        let queue = try DatabaseQueue(path: path)
        try SQLiteJournal.migrator.migrate(queue, upTo: Self.v8)
        var linked = Self.request
        linked.userId = LinkPlaceholder.user
        linked.organizationId = LinkPlaceholder.organization
        linked.resellerId = LinkPlaceholder.reseller
        var direct = LicenseRequest(productId: "prod-1")
        direct.organizationId = LinkPlaceholder.organization  // the first field: its comma follows it
        direct.userId = "U-given-in-the-file"
        var edited = Self.request
        edited.allowedActivations = 9
        edited.userId = LinkPlaceholder.user
        let rows: [(String, String, String, String?)] = [
            (
                "O-1", "create", String(decoding: linked.canonicalJSON, as: UTF8.self),
                String(decoding: edited.canonicalJSON, as: UTF8.self)
            ),
            ("O-2", "create", String(decoding: direct.canonicalJSON, as: UTF8.self), nil),
            ("C-1", "update", #"{"allowedActivations":5,"userId":"\#(LinkPlaceholder.user)"}"#, nil),
            ("C-2", "set-expiry", #"{"expiresAt":null}"#, nil),
            ("C-3", "set-expiry", #"{"expiresAt":"2027-01-01T00:00:00Z"}"#, #"{"expiresAt":"2028-01-01T00:00:00Z"}"#),
            ("C-4", "unrevoke", #"{"revoked":false}"#, nil),
            ("C-5", "renew", "", nil),
            ("C-6", "create", String(decoding: Self.request.canonicalJSON, as: UTF8.self), #"{"suspended":true}"#),
        ]
        try queue.write { db in
            for (index, row) in rows.enumerated() {
                try db.execute(
                    sql: """
                        INSERT INTO license (rowID, unit, sourceLine, body, bodyHash, marker, state, updatedAt, action, editedBody, editedHash)
                        VALUES (?, 1, ?, ?, ?, ?, 'created', '2026-12-05T00:00:00.000Z', ?, ?, ?)
                        """,
                    arguments: [
                        row.0, index + 2, Data(row.2.utf8), "hash-\(row.0)", "m-\(row.0)", row.1,
                        row.3.map { Data($0.utf8) }, row.3.map { _ in "edited-\(row.0)" },
                    ])
            }
            try db.execute(
                sql:
                    "INSERT INTO run (id, startedAt, command, version) VALUES (1, '2026-12-05T00:00:00.000Z', 'run', '0.2.0')"
            )
            try db.execute(
                sql:
                    "INSERT INTO attempt (licenseRef, runID, startedAt, outcome) VALUES (1, 1, '2026-12-05T00:00:00.000Z', 'created')"
            )
        }
        try queue.close()

        let journal = try SQLiteJournal(path: path)
        let entries = Dictionary(uniqueKeysWithValues: try journal.allEntries().map { ($0.rowID, $0) })
        var unlinked = Self.request
        unlinked.userId = nil
        #expect(entries["O-1"]?.operation == .create(Self.request), "the placeholders are gone; the references link")
        var editedUnlinked = edited
        editedUnlinked.userId = nil
        #expect(entries["O-1"]?.editedOperation == .create(editedUnlinked))
        var directUnlinked = direct
        directUnlinked.organizationId = nil
        #expect(entries["O-2"]?.operation == .create(directUnlinked), "an id the file gave stays")
        #expect(
            entries["C-1"]?.operation
                == .update(LicenseUpdate(fields: ["allowedActivations": .number(5)], linksCustomer: true)))
        #expect(entries["C-2"]?.operation == .setExpiry(.perpetual))
        #expect(entries["C-3"]?.operation == .setExpiry(.date("2027-01-01T00:00:00Z")))
        #expect(entries["C-3"]?.editedOperation == .setExpiry(.date("2028-01-01T00:00:00Z")))
        #expect(entries["C-4"]?.operation == .revoke(false))
        #expect(entries["C-5"]?.operation == .renew)
        #expect(
            entries["C-6"]?.editedOperation == .update(LicenseUpdate(fields: ["suspended": .bool(true)])),
            "a create's row turned into a change: v8 did not keep which, it shows as the fields it sets")
        #expect(
            entries.values.allSatisfy { $0.marker == "m-\($0.rowID)" && $0.state == .created },
            "markers and states as they were")
        // v11 fingerprints each entry as the planner fingerprints its row: from the typed operation.
        for entry in entries.values {
            let operation = try #require(entry.operation)
            #expect(
                entry.bodyHash
                    == RowFingerprint.of(
                        operation, marker: entry.marker, target: entry.target, customerKey: nil,
                        organizationKey: nil, resellerKey: nil
                    ).hex, "\(entry.rowID)")
        }
        var digests: [String: String?] = [:]
        try journal.forEachDigest { digests[$0.rowID] = $0.editedHash }
        #expect(
            digests["O-1"]
                == RowFingerprint.create(canonicalRequest: editedUnlinked.canonicalJSON, customerKey: nil).hex)
        // The table rebuilt without the old columns: its indexes, unique keys and the attempts' references as before.
        try DatabaseQueue(path: path).read { db in
            let columns = try db.columns(in: "license").map(\.name)
            #expect(
                !columns.contains("body") && !columns.contains("editedBody") && columns.contains("operation")
                    && columns.contains("editedOperation"))
            let indexes = try db.indexes(on: "license")
            #expect(
                Set(indexes.map(\.columns)).isSuperset(of: [["state"], ["licenseID"], ["marker"], ["rowID", "unit"]]))
            #expect(
                indexes.filter(\.isUnique).map(\.columns).sorted { $0.joined() < $1.joined() } == [
                    ["marker"], ["rowID", "unit"],
                ])
            #expect(try db.foreignKeys(on: "attempt").map(\.destinationTable).contains("license"))
            #expect(try Row.fetchAll(db, sql: "PRAGMA foreign_key_check").isEmpty)
            #expect(try Int.fetchOne(db, sql: "SELECT licenseRef FROM attempt") == 1)
        }
    }

    /// A body v9 cannot read stops the migration with the entry named (the journal stays at v8:
    /// the migration is one transaction), rather than being read as something else.
    @Test func anUnreadableBodyStopsTheMigrationNamingTheEntry() throws {
        let path = try SQLiteJournalTests.temporaryPath()
        let queue = try DatabaseQueue(path: path)
        try SQLiteJournal.migrator.migrate(queue, upTo: Self.v8)
        try queue.write { db in
            try db.execute(
                sql: """
                    INSERT INTO license (rowID, unit, sourceLine, body, bodyHash, marker, state, updatedAt, action)
                    VALUES ('C-9', 1, 2, X'7B6E6F74', 'h', 'm', 'pending', '2026-12-05T00:00:00.000Z', 'update')
                    """)
        }
        try queue.close()
        #expect {
            _ = try SQLiteJournal(path: path)
        } throws: { error in
            "\(error)".contains("license #1 (update) has a body this licprov cannot read")
        }
        let applied = try DatabaseQueue(path: path).read { db in try SQLiteJournal.migrator.appliedMigrations(db) }
        #expect(applied.last == Self.v8)
    }
}

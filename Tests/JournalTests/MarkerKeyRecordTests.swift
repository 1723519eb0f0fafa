import CryptlexModels
import Foundation
import GRDB
import TestSupport
import Testing

@testable import Journal

/// The marker key a journal's licenses carry: recorded by the first run, read from the creates
/// of a journal written before it was recorded (the v10 migration).
@Suite("The journal's marker key")
struct MarkerKeyRecordTests {
    static func create(_ row: String, metadata: [LicenseMetadata]) -> Intent {
        var request = LicenseRequest(productId: "p1")
        request.metadata = metadata
        return Intent(
            rowID: row, unit: 1, sourceLine: 2, operation: StoredOperation(.create(request)), bodyHash: "h-\(row)",
            marker: "m-\(row)")
    }

    @Test func theFirstRunRecordsItsKeyAndNoLaterOneChangesIt() throws {
        let path = try SQLiteJournalTests.temporaryPath()
        let journal = try SQLiteJournal(path: path)
        #expect(try journal.markerKey() == .unrecorded)
        #expect(try SQLiteJournal.recordedMarkerKey(atPath: path) == .unrecorded)
        try journal.recordMarkerKey("my_marker")
        try journal.recordMarkerKey("other")
        #expect(try journal.markerKey() == .key("my_marker"))
        #expect(try SQLiteJournal.recordedMarkerKey(atPath: path) == .key("my_marker"))

        let unmarked = try SQLiteJournal(path: try SQLiteJournalTests.temporaryPath())
        try unmarked.recordMarkerKey(nil)
        #expect(try unmarked.markerKey() == .none)
        #expect(try SQLiteJournal.recordedMarkerKey(atPath: "/nonexistent/journal.sqlite") == .unrecorded)
    }

    @Test func aJournalFromBeforeTheRecordHasItsKeyReadFromItsCreates() throws {
        let path = try SQLiteJournalTests.temporaryPath()
        do {
            let journal = try SQLiteJournal(path: path)
            // A change first (no metadata to read), then creates whose marker sits under my_marker
            // beside an order id entry.
            _ = try SQLiteJournalTests.insert(
                [
                    Self.create(
                        "A-1",
                        metadata: [
                            LicenseMetadata(key: "order_id", value: "A-1"),
                            LicenseMetadata(key: "my_marker", value: "m-A-1"),
                        ]),
                    Self.create("A-2", metadata: [LicenseMetadata(key: "my_marker", value: "m-A-2")]),
                ], into: journal)
        }
        // As a journal of the build before v10 is: no record, and v10 not applied.
        let queue = try DatabaseQueue(path: path)
        try queue.write { db in
            try db.execute(sql: "DELETE FROM meta WHERE name = 'markerKey'")
            try db.execute(sql: "DELETE FROM grdb_migrations WHERE identifier = 'v10: the marker key'")
        }
        try queue.close()
        // Read by the migration when the journal is opened.
        let upgraded = try SQLiteJournal(path: path)
        let recorded = try DatabaseQueue(path: path).read { db in
            try String.fetchOne(db, sql: "SELECT value FROM meta WHERE name = 'markerKey'")
        }
        #expect(recorded == "my_marker")
        #expect(try upgraded.markerKey() == .key("my_marker"))
    }

    @Test func aJournalWhoseCreatesCarryNoMarkerStaysUnrecorded() throws {
        let path = try SQLiteJournalTests.temporaryPath()
        let journal = try SQLiteJournal(path: path)
        _ = try SQLiteJournalTests.insert(
            [Self.create("A-1", metadata: [LicenseMetadata(key: "order_id", value: "A-1")])], into: journal)
        try DatabaseQueue(path: path).write { db in try db.execute(sql: "DELETE FROM meta WHERE name = 'markerKey'") }
        #expect(try journal.markerKey() == .unrecorded)
    }
}

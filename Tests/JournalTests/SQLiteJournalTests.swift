import Foundation
import GRDB
import Testing
import TestSupport
@testable import Journal

@Suite("The SQLite journal, on a real file")
struct SQLiteJournalTests {
    static func temporaryPath() throws -> String {
        let directory = try ScratchRoot.directory("licprov-journal")
        return directory.appendingPathComponent("orders.csv.licprov.sqlite").path
    }

    static func intent(_ row: String, unit: Int = 1, line: Int = 2) -> Intent {
        Intent(rowID: row, unit: unit, sourceLine: line, body: Array(#"{"productId":"p1"}"#.utf8), bodyHash: "h-\(row)", marker: "m-\(row)-\(unit)")
    }

    /// Registers `intents` as a run does (one transaction); returns their entry ids.
    static func insert(_ intents: [Intent], into journal: SQLiteJournal) throws -> [Int64] {
        try journal.registering { registration in try intents.map { try registration.insert($0) } }
    }

    @Test func aNewJournalIsPrivateWALAndMigrated() throws {
        let path = try Self.temporaryPath()
        let journal = try SQLiteJournal(path: path)
        // FULL: a commit is synced to disk before it returns, so an intent survives power loss.
        #expect(try journal.writerSynchronousMode() == 2)
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        let check = try DatabaseQueue(path: path)
        let (mode, tables) = try check.read { db in
            (try String.fetchOne(db, sql: "PRAGMA journal_mode"),
             try ["license", "run", "attempt"].allSatisfy { try db.tableExists($0) })
        }
        #expect(mode == "wal")
        #expect(tables)
    }

    @Test func aRowAndUnitIsRegisteredOnceAndAClashRollsTheWholeRegistrationBack() throws {
        let journal = try SQLiteJournal(path: try Self.temporaryPath())
        let ids = try Self.insert([Self.intent("A-1"), Self.intent("A-2"), Self.intent("A-2", unit: 2)], into: journal)
        #expect(Set(ids).count == 3)
        var again = Self.intent("A-1")
        again.marker = "another marker"
        #expect(throws: JournalError.self) { _ = try Self.insert([Self.intent("A-3"), again], into: journal) }
        #expect(try journal.allEntries().map(\.rowID) == ["A-1", "A-2", "A-2"], "A-3 went with the clash")
        #expect(try journal.counts() == [.pending: 3])
    }

    @Test func outcomesSurviveReopeningAndInFlightEntriesAreFound() async throws {
        let path = try Self.temporaryPath()
        do {
            let journal = try SQLiteJournal(path: path)
            let run = try journal.beginRun(command: "licprov run orders.csv", version: "test")
            let ids = try Self.insert([Self.intent("A-1"), Self.intent("A-2"), Self.intent("A-3")], into: journal)
            try journal.markInFlight(ids, run: run)
            let committer = JournalCommitter(journal: journal, run: run)
            try committer.post(AttemptOutcome(entryID: ids[0], state: .created, httpStatus: 201, licenseID: "lic-1", licenseKey: "KEY-1"))
            try committer.post(AttemptOutcome(entryID: ids[1], state: .failed, httpStatus: 400, error: "allowedActivations: must be at least -1"))
            try await committer.flush()
            // The process "dies" here: A-3 stays in flight, the run never ends.
        }
        let reopened = try SQLiteJournal(path: path)
        let all = try reopened.allEntries()
        #expect(all.map(\.state) == [.created, .failed, .inFlight])
        #expect(all[0].licenseKey == "KEY-1" && all[0].licenseID == "lic-1" && all[0].httpStatus == 201)
        #expect(all.map(\.attempts) == [1, 1, 1])
        #expect(try reopened.counts() == [.created: 1, .failed: 1, .inFlight: 1])
        let check = try DatabaseQueue(path: path)
        let (finished, outcome) = try await check.read { db in
            (try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM attempt WHERE finishedAt IS NOT NULL"),
             try String.fetchOne(db, sql: "SELECT outcome FROM run"))
        }
        #expect(finished == 2)
        #expect(outcome == nil)
    }

    @Test func aBrokenWriteIsAJournalErrorNamingTheSQL() throws {
        let journal = try SQLiteJournal(path: try Self.temporaryPath())
        _ = try Self.insert([Self.intent("A-1")], into: journal)
        var clash = Self.intent("B-1")
        clash.marker = "m-A-1-1"
        #expect {
            _ = try Self.insert([clash], into: journal)
        } throws: { error in
            let message = (error as? JournalError)?.errorDescription ?? ""
            return message.contains("cannot register intents") && message.contains("UNIQUE") && message.contains("INSERT INTO license")
        }
    }

    @Test func aFileThatIsNotAJournalIsRefusedClearly() throws {
        let path = try Self.temporaryPath()
        try Data("order_id,productId\n".utf8).write(to: URL(fileURLWithPath: path))
        #expect {
            _ = try SQLiteJournal(path: path)
        } throws: { error in
            (error as? JournalError)?.errorDescription?.contains("cannot open") == true
        }
    }
}

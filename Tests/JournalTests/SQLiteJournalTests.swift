import CryptlexModels
import Foundation
import GRDB
import Synchronization
import TestSupport
import Testing

@testable import Journal

@Suite("The SQLite journal, on a real file")
struct SQLiteJournalTests {
    static func temporaryPath() throws -> String {
        let directory = try ScratchRoot.directory("licprov-journal")
        return directory.appendingPathComponent("orders.csv.licprov.sqlite").path
    }

    static func intent(_ row: String, unit: Int = 1, line: Int = 2) -> Intent {
        Intent(
            rowID: row, unit: unit, sourceLine: line,
            operation: StoredOperation(.create(LicenseRequest(productId: "p1"))),
            bodyHash: "h-\(row)", marker: "m-\(row)-\(unit)")
    }

    /// Registers `intents` as a run does (one transaction); returns their entry ids.
    static func insert(_ intents: [Intent], into journal: SQLiteJournal) throws -> [Int64] {
        try journal.registering { registration in try intents.map { try registration.insert($0) } }
    }

    /// A journal whose file another connection holds locked for a moment (the last run's
    /// connection checkpointing as it closes) is opened once the lock goes, not refused with
    /// "database is locked" (the simulation found a run failing that way).
    @Test func aJournalLockedForAMomentIsOpenedWhenTheLockGoes() async throws {
        let path = try Self.temporaryPath()
        _ = try SQLiteJournal(path: path)
        let holder = try Self.holdExclusively(path)
        #expect(!Self.canRead(path), "the holder's lock keeps another connection out")
        // Both on threads of their own: the open blocks its thread while it waits for the lock,
        // which must not be one of the concurrency pool's two (the suites run beside this one).
        let opened: Result<Void, any Error> = await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(returning: Result { _ = try SQLiteJournal(path: path) })
            }
            Thread.detachNewThread {
                Thread.sleep(forTimeInterval: 0.2)  // the window in which the open meets the lock
                try? holder.close()
            }
        }
        try opened.get()
    }

    /// The journal's lock: a second taker is refused, naming the holder's PID, while the first
    /// holds it; one released within the second's short wait (a forked child's copy of the
    /// descriptor, the last in-process run's objects going) is taken.
    @Test func theJournalLockRefusesASecondRunAndWaitsOutAMomentaryHold() throws {
        final class Holder: Sendable {
            let lock: Mutex<JournalLock?>
            init(_ lock: JournalLock) { self.lock = Mutex(lock) }
        }
        let path = try Self.temporaryPath()
        let first = Holder(try JournalLock(journalPath: path))
        do {
            _ = try JournalLock(journalPath: path)
            Issue.record("a second lock was taken while the first held it")
        } catch let held as JournalLock.Held {
            #expect(held.pid == getpid())
        }
        Thread.detachNewThread { first.lock.withLock { $0 = nil } }
        _ = try JournalLock(journalPath: path)
    }

    /// A connection that keeps the file locked until it is closed.
    static func holdExclusively(_ path: String) throws -> DatabaseQueue {
        let holder = try DatabaseQueue(path: path)
        try holder.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA locking_mode = EXCLUSIVE")
            try db.execute(sql: "BEGIN EXCLUSIVE; CREATE TABLE held(x); COMMIT")
        }
        return holder
    }

    static func canRead(_ path: String) -> Bool {
        (try? DatabaseQueue(path: path).read { try Int.fetchOne($0, sql: "SELECT count(*) FROM license") }) != nil
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
            (
                try String.fetchOne(db, sql: "PRAGMA journal_mode"),
                try ["license", "run", "attempt"].allSatisfy { try db.tableExists($0) }
            )
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
            try committer.post(
                AttemptOutcome(
                    entryID: ids[0], state: .created, httpStatus: 201, licenseID: "lic-1", licenseKey: "KEY-1"))
            try committer.post(
                AttemptOutcome(
                    entryID: ids[1], state: .failed, httpStatus: 400, error: "allowedActivations: must be at least -1"))
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
            (
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM attempt WHERE finishedAt IS NOT NULL"),
                try String.fetchOne(db, sql: "SELECT outcome FROM run")
            )
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
            return message.contains("cannot register intents") && message.contains("UNIQUE")
                && message.contains("INSERT INTO license")
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

    /// Actions and targets are typed in the journal's API and stored as the text earlier releases
    /// wrote (`revoke`, `{"metadata":"order_id","value":"B-7"}`), so their journals read unchanged.
    /// A row that turns from a change into a create before anything was sent takes its new action
    /// and target with its new body; an action this licprov does not know is refused, never read as
    /// a create.
    @Test func actionsAndTargetsAreTypedStoredAsBeforeAndAnUnknownActionIsRefused() throws {
        let path = try Self.temporaryPath()
        let journal = try SQLiteJournal(path: path)
        var revoke = Self.intent("B-7")
        revoke.operation = StoredOperation(.revoke(true))
        revoke.target = .metadata(name: "order_id", value: "B-7")
        var renew = Self.intent("B-8")
        renew.operation = StoredOperation(.renew)
        renew.target = .key("KEY-8")
        let ids = try Self.insert([revoke, renew, Self.intent("C-1")], into: journal)
        let entries = try journal.allEntries()
        #expect(entries.map(\.action) == [.revoke, .renew, .create])
        #expect(entries.map(\.target) == [.metadata(name: "order_id", value: "B-7"), .key("KEY-8"), nil])
        #expect(try journal.actionCounts() == [.revoke: [.pending: 1], .renew: [.pending: 1], .create: [.pending: 1]])

        let check = try DatabaseQueue(path: path)
        let stored = try check.read { db in
            try Row.fetchAll(db, sql: "SELECT action, target FROM license ORDER BY id").map {
                ($0["action"] as String, $0["target"] as String?)
            }
        }
        #expect(stored.map(\.0) == ["revoke", "renew", "create"])
        #expect(stored.map(\.1) == [#"{"metadata":"order_id","value":"B-7"}"#, #"{"key":"KEY-8"}"#, nil])

        try journal.registering { registration in
            try registration.apply(
                .replaceOperation(
                    id: ids[0], operation: StoredOperation(.create(LicenseRequest(productId: "p1"))), bodyHash: "h-new",
                    state: .pending, error: nil, marker: "lp-journal-new"))
            try registration.apply(
                .replaceOperation(
                    id: ids[2], operation: StoredOperation(.create(LicenseRequest(productId: "p2"))), bodyHash: "h-c1",
                    state: .pending, error: nil))
        }
        let replaced = try #require(try journal.entry(id: ids[0]))
        #expect(replaced.action == .create)
        #expect(replaced.target == nil)
        #expect(replaced.marker == "lp-journal-new")
        #expect(try journal.entry(id: ids[2])?.marker == "m-C-1-1", "a replaced body keeps its marker unless given one")

        try check.write { db in
            try db.execute(sql: "UPDATE license SET action = 'archive' WHERE id = ?", arguments: [ids[1]])
        }
        #expect {
            _ = try journal.allEntries()
        } throws: { error in
            (error as? JournalError)?.errorDescription?.contains(
                #"has the action "archive", which this licprov does not know"#) == true
        }
        #expect(throws: JournalError.self) { _ = try journal.actionCounts() }
        try check.write { db in
            try db.execute(
                sql: "UPDATE license SET action = 'renew', target = 'KEY-8' WHERE id = ?", arguments: [ids[1]])
        }
        #expect {
            _ = try journal.entry(id: ids[1])
        } throws: { error in
            (error as? JournalError)?.errorDescription?.contains(#"has the target "KEY-8""#) == true
        }
    }
}

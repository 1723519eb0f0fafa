import Foundation
import GRDB

/// The run journal: one SQLite file (WAL, `synchronous = FULL`) that records every license's
/// intent before it is sent and its outcome after, so a run stopped at any moment resumes
/// without sending anything twice.
///
/// Writes are batched: ``register(_:)``, ``markInFlight(_:run:)`` and ``record(_:run:)`` each take
/// many entries and commit them in one transaction (group commit). A commit returns only once
/// SQLite has synced it, which is what makes "recorded before sent" hold across power loss.
public final class SQLiteJournal: Sendable {
    public let path: String
    private let pool: DatabasePool

    /// Opens (creating if needed) and migrates the journal at `path`; the file is made 0600.
    public init(path: String) throws(JournalError) {
        self.path = path
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        do {
            let existed = FileManager.default.fileExists(atPath: path)
            pool = try DatabasePool(path: path, configuration: configuration)
            // GRDB opens WAL pools with synchronous = NORMAL, which can lose the last commits on
            // power loss. The pool has one writer connection: make its commits wait for the disk.
            try pool.writeWithoutTransaction { try $0.execute(sql: "PRAGMA synchronous = FULL") }
            if !existed { chmod(path, 0o600) }
            try Self.migrator.migrate(pool)
        } catch {
            throw JournalError(path: path, operation: "open", error)
        }
    }

    // MARK: runs

    /// Records the start of a run; `command` is the command line without secrets.
    public func beginRun(command: String, version: String) throws(JournalError) -> Int64 {
        try write("begin a run") { db in
            try db.execute(sql: "INSERT INTO run (startedAt, command, version) VALUES (?, ?, ?)",
                           arguments: [Self.now(), command, version])
            return db.lastInsertedRowID
        }
    }

    /// Records how a run ended.
    public func endRun(_ id: Int64, outcome: String) throws(JournalError) {
        try write("end a run") { db in
            try db.execute(sql: "UPDATE run SET endedAt = ?, outcome = ? WHERE id = ?", arguments: [Self.now(), outcome, id])
        }
    }

    // MARK: entries

    /// Registers intents in one transaction and returns every one's entry: new ones pending,
    /// known ones (same row id and unit) as the journal has them, untouched.
    public func register(_ intents: [Intent]) throws(JournalError) -> [JournalEntry] {
        try write("register intents") { db in
            var entries: [JournalEntry] = []
            entries.reserveCapacity(intents.count)
            for intent in intents {
                try db.execute(sql: """
                    INSERT INTO license (rowID, unit, sourceLine, body, bodyHash, marker, state, attempts, updatedAt)
                    VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, ?)
                    ON CONFLICT(rowID, unit) DO NOTHING
                    """, arguments: [intent.rowID, intent.unit, intent.sourceLine, Data(intent.body), intent.bodyHash, intent.marker, Self.now()])
                if let row = try Row.fetchOne(db, sql: "SELECT * FROM license WHERE rowID = ? AND unit = ?", arguments: [intent.rowID, intent.unit]) {
                    entries.append(Self.entry(row))
                }
            }
            return entries
        }
    }

    /// Marks entries as being sent in this run and counts the attempt — durably, before the
    /// requests go out.
    public func markInFlight(_ ids: [Int64], run: Int64) throws(JournalError) {
        try write("record intent to send") { db in
            let now = Self.now()
            for id in ids {
                try db.execute(sql: "UPDATE license SET state = 'inFlight', attempts = attempts + 1, updatedAt = ? WHERE id = ?", arguments: [now, id])
                try db.execute(sql: "INSERT INTO attempt (licenseRef, runID, startedAt) VALUES (?, ?, ?)", arguments: [id, run, now])
            }
        }
    }

    /// Records outcomes (entry state plus the attempt's result) in one transaction.
    public func record(_ outcomes: [AttemptOutcome], run: Int64) throws(JournalError) {
        try write("record outcomes") { db in
            let now = Self.now()
            for outcome in outcomes {
                try db.execute(sql: """
                    UPDATE license SET state = ?, httpStatus = ?, licenseID = COALESCE(?, licenseID),
                    licenseKey = COALESCE(?, licenseKey), error = ?, updatedAt = ? WHERE id = ?
                    """, arguments: [outcome.state.rawValue, outcome.httpStatus, outcome.licenseID, outcome.licenseKey, outcome.error, now, outcome.entryID])
                try db.execute(sql: """
                    UPDATE attempt SET finishedAt = ?, httpStatus = ?, outcome = ?, error = ?
                    WHERE id = (SELECT MAX(id) FROM attempt WHERE licenseRef = ? AND runID = ?)
                    """, arguments: [now, outcome.httpStatus, outcome.state.rawValue, outcome.error, outcome.entryID, run])
            }
        }
    }

    /// Entries a crashed run left in flight: each may or may not have created its license.
    public func inFlight() throws(JournalError) -> [JournalEntry] {
        try read("list entries in flight") { db in
            try Row.fetchAll(db, sql: "SELECT * FROM license WHERE state = 'inFlight' ORDER BY id").map(Self.entry)
        }
    }

    /// Every entry in file order (source line, then unit): the basis of `export`.
    public func allEntries() throws(JournalError) -> [JournalEntry] {
        try read("list entries") { db in
            try Row.fetchAll(db, sql: "SELECT * FROM license ORDER BY sourceLine, rowID, unit").map(Self.entry)
        }
    }

    /// How many entries are in each state.
    public func counts() throws(JournalError) -> [JournalEntry.State: Int] {
        try read("count entries") { db in
            var counts: [JournalEntry.State: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT state, COUNT(*) AS n FROM license GROUP BY state") {
                if let state = JournalEntry.State(rawValue: row["state"]) { counts[state] = row["n"] }
            }
            return counts
        }
    }

    // MARK: plumbing

    /// `PRAGMA synchronous` on the writing connection (2 = FULL), for tests.
    func writerSynchronousMode() throws -> Int? {
        try pool.write { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") }
    }

    private func write<T>(_ operation: String, _ body: (Database) throws -> T) throws(JournalError) -> T {
        do {
            return try pool.write(body)
        } catch {
            throw JournalError(path: path, operation: operation, error)
        }
    }

    private func read<T>(_ operation: String, _ body: (Database) throws -> T) throws(JournalError) -> T {
        do {
            return try pool.read(body)
        } catch {
            throw JournalError(path: path, operation: operation, error)
        }
    }

    private static func entry(_ row: Row) -> JournalEntry {
        JournalEntry(
            id: row["id"], rowID: row["rowID"], unit: row["unit"], sourceLine: row["sourceLine"],
            body: [UInt8](row["body"] as Data), bodyHash: row["bodyHash"], marker: row["marker"],
            state: JournalEntry.State(rawValue: row["state"]) ?? .pending, attempts: row["attempts"],
            licenseID: row["licenseID"], licenseKey: row["licenseKey"], httpStatus: row["httpStatus"], error: row["error"]
        )
    }

    static func now() -> String {
        Date().formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
    }
}

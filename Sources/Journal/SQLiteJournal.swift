import CryptlexModels
import Foundation
import GRDB

/// The run journal: one SQLite file (WAL, `synchronous = FULL`) that records every license's
/// intent before it is sent and its outcome after, so a run stopped at any moment resumes
/// without sending anything twice.
///
/// Writes are batched: ``registering(_:)`` records a whole file's intents in one transaction,
/// ``markInFlight(_:run:)`` a chunk of sends, and ``JournalCommitter`` groups the workers' writes
/// (group commit). A commit returns only once SQLite has synced it, which is what makes
/// "recorded before sent" hold across power loss.
package final class SQLiteJournal: Sendable {
    package let path: String
    private let pool: DatabasePool
    /// The wall clock the journal's times are read from (a simulation's replays them).
    private let wallClock: @Sendable () -> Date

    /// Opens (creating if needed) and migrates the journal at `path`; the file is made 0600.
    /// `wallClock`: what its times are (the system's clock unless a simulation gives its own).
    package init(path: String, wallClock: @escaping @Sendable () -> Date = { Date() }) throws(JournalError) {
        self.path = path
        self.wallClock = wallClock
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        // Another connection may hold the file's lock for a moment: the previous run's last
        // connection checkpointing the WAL as it closes, `licprov status` reading. Wait for it
        // rather than fail the run with "database is locked" (found by the simulation: a run
        // started right after another on the same journal failed that way, 1 schedule in 300).
        configuration.busyMode = .timeout(10)
        do {
            // The file exists, 0600, before SQLite opens it: SQLite gives the -wal and -shm files
            // it creates the database file's mode, so they are 0600 from their first byte too.
            try Self.createPrivately(path)
            pool = try DatabasePool(path: path, configuration: configuration)
            // GRDB opens WAL pools with synchronous = NORMAL, which can lose the last commits on
            // power loss. The pool has one writer connection: make its commits wait for the disk.
            try pool.writeWithoutTransaction { try $0.execute(sql: "PRAGMA synchronous = FULL") }
            // A journal from a newer licprov has migrations this one does not know: its columns and
            // states would be misread, so nothing is done with it.
            if try pool.read({ try Self.migrator.hasBeenSuperseded($0) }) {
                let unknown = try pool.read { db in
                    try Self.migrator.appliedIdentifiers(db).subtracting(Self.migrator.migrations)
                }
                throw UnreadableJournal(
                    description:
                        "it was written by a newer licprov: its schema has \(unknown.sorted().map { "\"\($0)\"" }.joined(separator: ", ")), "
                        + "which this licprov does not know. Nothing was read, changed or sent; use that licprov or a newer one"
                )
            }
            try Self.migrator.migrate(pool)
        } catch {
            throw JournalError(path: path, operation: "open", error)
        }
    }

    /// Creates `path` empty with mode 0600 when it does not exist; makes an existing journal (and
    /// its -wal and -shm) 0600 when others could read it (journals written before that rule).
    static func createPrivately(_ path: String) throws {
        let descriptor = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if descriptor >= 0 {
            fchmod(descriptor, 0o600)
            close(descriptor)
            return
        }
        guard errno == EEXIST else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        for file in [path, path + "-wal", path + "-shm"] {
            var info = stat()
            if stat(file, &info) == 0, info.st_mode & 0o077 != 0 { chmod(file, 0o600) }
        }
    }

    // MARK: entries

    static func apply(_ change: EntryChange, now: String, in db: Database) throws {
        switch change {
        case .replaceOperation(
            let id, let operation, let hash, let state, let error, let customerRef, let target, let marker,
            let organizationRef, let resellerRef):
            try db.cachedStatement(
                sql: """
                    UPDATE license SET operation = ?, bodyHash = ?, state = ?, error = ?, httpStatus = NULL, editedOperation = NULL, editedHash = NULL,
                    customerRef = ?, action = ?, target = ?, marker = COALESCE(?, marker), organizationRef = ?, resellerRef = ?,
                    updatedAt = ? WHERE id = ?
                    """
            ).execute(arguments: [
                Data(operation.bytes), hash, state.rawValue, error, customerRef, operation.action.rawValue,
                target?.journalText, marker, organizationRef, resellerRef, now, id,
            ])
        case .moveTo(let id, let line):
            try db.cachedStatement(sql: "UPDATE license SET sourceLine = ? WHERE id = ?").execute(arguments: [line, id])
        case .noteEdit(let id, let operation, let hash):
            try db.cachedStatement(sql: "UPDATE license SET editedOperation = ?, editedHash = ? WHERE id = ?")
                .execute(arguments: [operation.map { Data($0.bytes) }, hash, id])
        }
    }

    /// Calls `body` with every entry in brief, one at a time, for deciding what each row of a
    /// file needs.
    package func forEachDigest(_ body: (EntryDigest) throws -> Void) throws {
        try read("read the entries") { db in
            let cursor = try Row.fetchCursor(
                db, sql: "SELECT id, rowID, unit, sourceLine, bodyHash, state, editedHash, maybeSent FROM license")
            while let row = try cursor.next() {
                try body(
                    EntryDigest(
                        id: row[0], rowID: row[1], unit: row[2], sourceLine: row[3], bodyHash: row[4],
                        state: try .decode(row[5], id: row[0], rowID: row[1]), editedHash: row[6], maybeSent: row[7]))
            }
        }
    }

    /// One entry, whole.
    package func entry(id: Int64) throws(JournalError) -> JournalEntry? {
        try read("read an entry") { db in
            try Row.fetchOne(db, sql: "SELECT \(Self.entryColumns) FROM license WHERE id = ?", arguments: [id]).map {
                try Self.entry($0)
            }
        }
    }

    /// The entries with these ids, by id (one read).
    package func entries(ids: [Int64], operations: Operations = .all) throws(JournalError) -> [Int64: JournalEntry] {
        guard !ids.isEmpty else { return [:] }
        return try read("read entries") { db in
            var entries: [Int64: JournalEntry] = [:]
            for start in stride(from: 0, to: ids.count, by: 500) {
                let chunk = ids[start..<min(start + 500, ids.count)]
                let sql =
                    "SELECT \(Self.entryColumns(operations)) FROM license WHERE id IN (\(chunk.map { String($0) }.joined(separator: ",")))"
                for row in try Row.fetchAll(db, sql: sql) {
                    let entry = try Self.entry(row, operations: operations)
                    entries[entry.id] = entry
                }
            }
            return entries
        }
    }

    /// Registers a file's intents and changes in **one** transaction: `body` inserts and updates
    /// through the ``Registration`` it is given; if it throws, nothing it did is kept.
    package func registering<T>(_ body: (Registration) throws -> T) throws -> T {
        do {
            return try pool.write { db in
                // 32 MiB of page cache while a file is registered (SQLite's default is 2 MiB): one
                // transaction of up to a million rows, whose index pages would otherwise spill to the
                // WAL and be read back. Back to the default after, so a run's memory does not keep it.
                try db.execute(sql: "PRAGMA cache_size = -32768")
                defer { try? db.execute(sql: "PRAGMA cache_size = -2000") }
                return try body(Registration(db: db, now: timestamp()))
            }
        } catch let error as DatabaseError {
            throw JournalError(path: path, operation: "register intents", error)
        }
    }

    /// Every entry in file order (source line, then unit): the basis of `export`.
    package func allEntries() throws(JournalError) -> [JournalEntry] {
        try read("list entries") { db in
            try Row.fetchAll(db, sql: "SELECT \(Self.entryColumns) FROM license ORDER BY sourceLine, rowID, unit").map {
                try Self.entry($0)
            }
        }
    }

    /// Which entries' operations a listing reads (and decodes: a create's is its whole request).
    package enum Operations: Sendable {
        case all
        /// Only those of entries whose row was edited since (``JournalEntry/editedOperation``), to
        /// show both versions; the others come without (a results file's listing).
        case whenEdited
        /// None (a listing of states, actions and license ids: the report, an undo's plan).
        case none
    }

    /// Calls `body` with every entry in file order (source line, row id, unit), one at a time:
    /// memory stays flat however large the journal. `states` limits which entries are read.
    package func forEachEntry(
        states: Set<JournalEntry.State>? = nil, operations: Operations = .all, _ body: (JournalEntry) throws -> Void
    ) throws {
        try read("list entries") { db in
            var sql = "SELECT \(Self.entryColumns(operations)) FROM license"
            if let states { sql += " WHERE state IN (\(states.map { "'\($0.rawValue)'" }.joined(separator: ",")))" }
            let cursor = try Row.fetchCursor(db, sql: sql + " ORDER BY sourceLine, rowID, unit")
            while let row = try cursor.next() { try body(try Self.entry(row, operations: operations)) }
        }
    }

    /// The entries whose row id starts with `prefix` (an index range, not a scan).
    package func entries(rowIDPrefix prefix: String) throws(JournalError) -> [JournalEntry] {
        // The first string after every one with the prefix: its last byte raised by one.
        var end = Array(prefix.utf8)
        guard let last = end.popLast() else { return [] }
        end.append(last + 1)
        return try read("read entries") { db in
            try Row.fetchAll(
                db, sql: "SELECT \(Self.entryColumns) FROM license WHERE rowID >= ? AND rowID < ? ORDER BY rowID, unit",
                arguments: [prefix, String(decoding: end, as: UTF8.self)]
            ).map { try Self.entry($0) }
        }
    }

    /// The entries that created or changed license `id` (journal v8 indexes the license id).
    package func entries(licenseID id: String) throws(JournalError) -> [JournalEntry] {
        try read("read entries") { db in
            try Row.fetchAll(
                db, sql: "SELECT \(Self.entryColumns) FROM license WHERE licenseID = ? ORDER BY id", arguments: [id]
            ).map { try Self.entry($0) }
        }
    }

    /// Whether the journal holds no entry yet (a fresh run of a file).
    package func isEmpty() throws(JournalError) -> Bool {
        try read("count entries") { db in try Int.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM license)") == 0 }
    }

    /// How many entries are in each state.
    package func counts() throws(JournalError) -> [JournalEntry.State: Int] {
        try read("count entries") { db in
            var counts: [JournalEntry.State: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT state, COUNT(*) AS n FROM license GROUP BY state") {
                counts[try .decode(row["state"], id: nil, rowID: nil)] = row["n"]
            }
            return counts
        }
    }

    /// The entries with an attempt in run `run` (what that run sent).
    package func entriesAttempted(inRun run: Int64) throws(JournalError) -> [Int64] {
        try read("read a run's entries") { db in
            try Int64.fetchAll(db, sql: "SELECT DISTINCT licenseRef FROM attempt WHERE runID = ?", arguments: [run])
        }
    }

    /// The prefix of the markers this journal gives new licenses: `lp-<journal id>-`.
    package func markerPrefix() throws(JournalError) -> String {
        try read("read the journal id") { db in
            "lp-" + (try String.fetchOne(db, sql: "SELECT value FROM meta WHERE name = 'journalID'") ?? "") + "-"
        }
    }

    /// How many entries of each action are in each state (`create` included).
    package func actionCounts() throws(JournalError) -> [LicenseAction: [JournalEntry.State: Int]] {
        try read("count entries by action") { db in
            var counts: [LicenseAction: [JournalEntry.State: Int]] = [:]
            for row in try Row.fetchAll(
                db, sql: "SELECT action, state, COUNT(*) AS n FROM license GROUP BY action, state")
            {
                counts[try .decode(row["action"], id: nil), default: [:]][
                    try .decode(row["state"], id: nil, rowID: nil)] = row["n"]
            }
            return counts
        }
    }

    // MARK: plumbing

    /// `PRAGMA synchronous` on the writing connection (2 = FULL), for tests.
    func writerSynchronousMode() throws -> Int? {
        try pool.write { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") }
    }

    func write<T>(_ operation: String, _ body: (Database) throws -> T) throws(JournalError) -> T {
        do {
            return try pool.write(body)
        } catch {
            throw JournalError(path: path, operation: operation, error)
        }
    }

    func read<T>(_ operation: String, _ body: (Database) throws -> T) throws(JournalError) -> T {
        do {
            return try pool.read(body)
        } catch {
            throw JournalError(path: path, operation: operation, error)
        }
    }

    /// The columns ``entry(_:)`` reads, in its order: read by position, not by name (a journal's
    /// worth of entries is read for every results file, and a name is looked up case-insensitively
    /// among the row's columns each time).
    static let entryColumns = entryColumns(.all)

    static func entryColumns(_ operations: Operations) -> String {
        let (operation, edited) =
            switch operations {
            case .all: ("operation", "editedOperation")
            case .whenEdited: ("CASE WHEN editedOperation IS NULL THEN NULL ELSE operation END", "editedOperation")
            case .none: ("NULL", "NULL")
            }
        return
            "id, rowID, unit, sourceLine, \(operation), bodyHash, marker, state, attempts, licenseID, licenseKey, httpStatus, "
            + "error, \(edited), customerRef, maybeSent, updatedAt, action, target, beforeState, afterExpiry, organizationRef, resellerRef"
    }

    /// An entry from a row of ``entryColumns``.
    private static func entry(_ row: Row, operations: Operations = .all) throws -> JournalEntry {
        let id: Int64 = row[0]
        let rowID: String = row[1]
        return try JournalEntry(
            id: id, rowID: rowID, unit: row[2], sourceLine: row[3],
            operation: .decode(row[4], column: "operation", id: id), bodyHash: row[5], marker: row[6],
            state: .decode(row[7], id: id, rowID: rowID), attempts: row[8],
            licenseID: row[9], licenseKey: row[10], httpStatus: row[11], error: row[12],
            editedOperation: .decode(row[13], column: "editedOperation", id: id), customerRef: row[14],
            maybeSent: row[15], updatedAt: row[16], action: .decode(row[17], id: id),
            target: LicenseTarget.decode(row[18], id: id),
            beforeState: row[19], afterExpiry: row[20], organizationRef: row[21], resellerRef: row[22]
        )
    }

    /// Now, as this journal writes times (ISO 8601, UTC, milliseconds), on its wall clock.
    package func timestamp() -> String { Self.timestamp(wallClock()) }

    /// `date` (the system's now), as the journal writes times.
    package static func timestamp(_ date: Date = Date()) -> String {
        date.formatted(timeFormat)
    }

    /// A time the journal wrote, as a date.
    package static func date(_ text: String) -> Date? {
        try? Date(text, strategy: timeFormat)
    }

    private static let timeFormat = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
}

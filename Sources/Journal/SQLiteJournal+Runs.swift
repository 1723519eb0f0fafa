import GRDB

/// The journal's runs (when each began and ended, its command and outcome) and the attempts of
/// each entry: what `status`, `report` and the tests read back.
extension SQLiteJournal {
    /// Records the start of a run; `command` is the command line without secrets.
    package func beginRun(command: String, version: String) throws(JournalError) -> Int64 {
        try write("begin a run") { db in
            try db.execute(
                sql: "INSERT INTO run (startedAt, command, version) VALUES (?, ?, ?)",
                arguments: [timestamp(), command, version])
            return db.lastInsertedRowID
        }
    }

    /// Records how a run ended, with its counts as a line of text.
    package func endRun(_ id: Int64, outcome: String, summary: String? = nil) throws(JournalError) {
        try write("end a run") { db in
            try db.execute(
                sql: "UPDATE run SET endedAt = ?, outcome = ?, summary = ? WHERE id = ?",
                arguments: [timestamp(), outcome, summary, id])
        }
    }

    /// The most recent run, if any.
    package func lastRun() throws(JournalError) -> RunRecord? {
        try read("read the last run") { db in
            try Row.fetchOne(db, sql: "SELECT * FROM run ORDER BY id DESC LIMIT 1").map(Self.runRecord)
        }
    }

    /// Every run, oldest first.
    package func runs() throws(JournalError) -> [RunRecord] {
        try read("read the runs") { db in
            try Row.fetchAll(db, sql: "SELECT * FROM run ORDER BY id").map(Self.runRecord)
        }
    }

    /// One attempt as the journal recorded it (a send and how it ended).
    package struct AttemptRecord: Sendable, Equatable {
        package var entryID: Int64
        package var runID: Int64
        package var startedAt: String
        package var finishedAt: String?
        package var httpStatus: Int?
        package var outcome: String?
    }

    /// Every attempt, in the order they started.
    package func attempts() throws(JournalError) -> [AttemptRecord] {
        try read("read the attempts") { db in
            try Row.fetchAll(
                db,
                sql:
                    "SELECT licenseRef, runID, startedAt, finishedAt, httpStatus, outcome FROM attempt ORDER BY startedAt, id"
            ).map { row in
                AttemptRecord(
                    entryID: row["licenseRef"], runID: row["runID"], startedAt: row["startedAt"],
                    finishedAt: row["finishedAt"],
                    httpStatus: row["httpStatus"], outcome: row["outcome"])
            }
        }
    }

    private static func runRecord(_ row: Row) -> RunRecord {
        RunRecord(
            id: row["id"], startedAt: row["startedAt"], endedAt: row["endedAt"], command: row["command"],
            version: row["version"], outcome: row["outcome"], summary: row["summary"])
    }
}

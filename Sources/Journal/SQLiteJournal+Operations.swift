import Foundation
import GRDB

/// The writes of a run's workers: marking sends in flight, and their outcomes. ``JournalCommitter``
/// groups them into transactions.
extension SQLiteJournal {
    /// Marks entries as being sent in this run and counts the attempt — durably, before the
    /// requests go out.
    package func markInFlight(_ ids: [Int64], run: Int64) throws(JournalError) {
        let now = timestamp()
        try write("record intent to send") { db in
            try Self.apply(ids.map { .markInFlight($0) }, run: run, now: now, in: db)
        }
    }

    /// A write a worker asks for; ``JournalCommitter`` commits many in one transaction.
    package enum Operation: Sendable, Equatable {
        /// The entry is about to be sent: state inFlight, one more attempt.
        case markInFlight(Int64)
        /// How an attempt ended.
        case outcome(AttemptOutcome)
        /// The row changed while its entry was in flight and the lookup found nothing: send the new operation.
        case replaceOperation(id: Int64, operation: StoredOperation, bodyHash: String)
        /// Marked in flight ahead of its send, but the run stopped before sending it: back to pending.
        case unmark(Int64)
        /// A change's license, and its fields before the change (written once, before the first send).
        case recordTarget(id: Int64, licenseID: String, licenseKey: String?, beforeState: String)
    }

    /// Applies operations with prepared statements (compiled once per connection, not per row).
    ///
    /// An attempt's row in `attempt` is written when the attempt ends, with its start time; an
    /// attempt cut short by a crash shows as the license's `inFlight` state and `attempts` count.
    static func apply(_ operations: [Operation], run: Int64, now: String, in db: Database) throws {
        for operation in operations {
            switch operation {
            case .markInFlight(let id):
                try db.cachedStatement(
                    sql: "UPDATE license SET state = 'inFlight', attempts = attempts + 1, updatedAt = ? WHERE id = ?"
                )
                .execute(arguments: [now, id])
            case .unmark(let id):
                try db.cachedStatement(
                    sql:
                        "UPDATE license SET state = 'pending', attempts = MAX(attempts - 1, 0), updatedAt = ? WHERE id = ? AND state = 'inFlight'"
                )
                .execute(arguments: [now, id])
            case .replaceOperation(let id, let operation, let hash):
                try db.cachedStatement(
                    sql: """
                        UPDATE license SET operation = ?, action = ?, bodyHash = ?, state = 'pending', error = NULL, updatedAt = ? WHERE id = ?
                        """
                ).execute(arguments: [Data(operation.bytes), operation.action.rawValue, hash, now, id])
            case .recordTarget(let id, let licenseID, let licenseKey, let beforeState):
                try db.cachedStatement(
                    sql: """
                        UPDATE license SET licenseID = ?, licenseKey = ?, beforeState = COALESCE(beforeState, ?), updatedAt = ? WHERE id = ?
                        """
                ).execute(arguments: [licenseID, licenseKey, beforeState, now, id])
            case .outcome(let outcome):
                try db.cachedStatement(
                    sql: """
                        UPDATE license SET state = ?, httpStatus = ?, licenseID = COALESCE(?, licenseID),
                        licenseKey = COALESCE(?, licenseKey), error = ?, updatedAt = ?, maybeSent = maybeSent OR ?,
                        afterExpiry = COALESCE(?, afterExpiry) WHERE id = ?
                        """
                ).execute(arguments: [
                    outcome.state.rawValue, outcome.httpStatus, outcome.licenseID, outcome.licenseKey,
                    outcome.error, now, outcome.state == .inFlight, outcome.afterExpiry, outcome.entryID,
                ])
                if outcome.endsAttempt {
                    try db.cachedStatement(
                        sql: """
                            INSERT INTO attempt (licenseRef, runID, startedAt, finishedAt, httpStatus, outcome, error)
                            VALUES (?, ?, ?, ?, ?, ?, ?)
                            """
                    ).execute(arguments: [
                        outcome.entryID, run, outcome.startedAt ?? now, now, outcome.httpStatus,
                        outcome.state.rawValue, outcome.error,
                    ])
                }
            }
        }
    }
}

import CryptlexModels
import Foundation
import Journal
import Provisioning
import Results

/// The `status` and `export` use cases: what the journal alone says.
package enum JournalReport {
    /// Counts by state, the last run, and what a rerun of the same file would do.
    package struct Status: Sendable {
        package var counts: [JournalEntry.State: Int]
        package var editedSinceCreated: Int
        package var lastRun: RunRecord?
        /// Customers by state (resolved once per journal).
        package var customers: [CustomerRecord.State: Int] = [:]
        /// Organizations and resellers, by state.
        package var directory: [DirectoryEntry.Kind: [CustomerRecord.State: Int]] = [:]
        /// Changes to existing licenses (every action but create), by action and state.
        package var changes: [LicenseAction: [JournalEntry.State: Int]] = [:]
        package var total: Int { counts.values.reduce(0, +) }
        /// Entries a rerun looks up first (left in flight).
        package var toLookUp: Int { counts[.inFlight, default: 0] }
        /// Entries a rerun sends again.
        package var toSend: Int { counts[.pending, default: 0] + counts[.failed, default: 0] }
        /// Entries a rerun leaves alone unless their row changes.
        package var heldBack: Int {
            counts[.rejected, default: 0] + counts[.conflict, default: 0] + counts[.unresolved, default: 0]
        }
    }

    /// Opens the journal at `path` (which must exist) and reads its status.
    package static func status(journalPath path: String) throws -> Status {
        let journal = try open(path)
        let entries = try journal.counts()
        var edited = 0
        try journal.forEachEntry(states: [.created, .recovered], operations: .whenEdited) {
            if $0.editedOperation != nil { edited += 1 }
        }
        var status = Status(
            counts: entries, editedSinceCreated: edited, lastRun: try journal.lastRun(),
            customers: try journal.customerCounts())
        status.changes = try journal.actionCounts().filter { $0.key.isChange }
        status.directory = try journal.directoryCounts()
        return status
    }

    /// How many users, organizations and resellers the journal created (what `undo` leaves in place).
    package static func createdByUs(journalPath path: String) throws -> (users: Int, organizations: Int, resellers: Int)
    {
        try open(path).createdByUs()
    }

    /// Rebuilds the results file from the journal alone, in file order, one line at a time.
    package static func export(
        journalPath path: String, markerKey: String? = RunConfiguration.defaultMarkerKey,
        _ body: (ResultsFile.Line) throws -> Void
    ) throws {
        let journal = try open(path)
        let directory = try journal.directoryIDs()
        try journal.forEachEntry(operations: .whenEdited) {
            try body(ResultsLines.line(for: $0, markerKey: markerKey, directory: directory))
        }
    }

    /// The whole export as lines (for tests and small journals).
    package static func export(journalPath path: String, markerKey: String? = RunConfiguration.defaultMarkerKey) throws
        -> [ResultsFile.Line]
    {
        var lines: [ResultsFile.Line] = []
        try export(journalPath: path, markerKey: markerKey) { lines.append($0) }
        return lines
    }

    /// A journal that must already exist: `status` of a mistyped path must not create one.
    static func open(_ path: String) throws -> SQLiteJournal {
        guard FileManager.default.fileExists(atPath: path) else { throw JournalMissing(path: path) }
        return try SQLiteJournal(path: path)
    }

    /// `status` or `export` of a journal that does not exist.
    package struct JournalMissing: Error, LocalizedError, Sendable {
        package var path: String
        package var errorDescription: String? {
            "no journal at \(path): run `licprov run` first, or name the journal with --journal"
        }
    }
}

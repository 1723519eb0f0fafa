import CryptlexModels
import Foundation
import GRDB

/// The metadata key of the marker a journal's licenses carry, recorded in the journal (`meta`
/// `markerKey`; an empty value: sent with `--no-marker`), so that `audit`, `undo`, `status`,
/// `plan` and `apply` use the key the run used without being told again.
package enum MarkerKeyRecord: Sendable, Equatable {
    /// No run has recorded one, and none of its creates shows one (a new journal, or one of changes).
    case unrecorded
    /// The licenses carry no marker (`--no-marker`).
    case none
    case key(String)

    /// The recorded key (nil: no marker), or `fallback` when none is recorded.
    package func resolved(_ fallback: String?) -> String? {
        switch self {
        case .unrecorded: fallback
        case .none: nil
        case .key(let key): key
        }
    }
}

extension SQLiteJournal {
    /// What this journal records.
    package func markerKey() throws(JournalError) -> MarkerKeyRecord {
        try read("read the marker key") { db in try Self.markerKey(in: db) }
    }

    /// Records `key` (nil: no marker) unless a key is recorded already: the first run decides.
    package func recordMarkerKey(_ key: String?) throws(JournalError) {
        try write("record the marker key") { db in
            try db.execute(
                sql: "INSERT OR IGNORE INTO meta (name, value) VALUES ('markerKey', ?)", arguments: [key ?? ""])
        }
    }

    /// What the journal at `path` records (`.unrecorded` when there is no journal yet). Opens it
    /// as `status` does (an earlier journal is upgraded); a dry run reads its snapshot instead.
    package static func recordedMarkerKey(atPath path: String) throws(JournalError) -> MarkerKeyRecord {
        guard FileManager.default.fileExists(atPath: path) else { return .unrecorded }
        return try SQLiteJournal(path: path).markerKey()
    }

    static func markerKey(in db: Database) throws -> MarkerKeyRecord {
        guard let value = try String.fetchOne(db, sql: "SELECT value FROM meta WHERE name = 'markerKey'") else {
            return .unrecorded
        }
        return value.isEmpty ? .none : .key(value)
    }

    /// The key of the metadata entry whose value is the entry's marker, on the first creates that
    /// have one — the v10 migration's reading of a journal from before the record (one made with
    /// `--no-marker` has none: it is then left unrecorded, and its next run records its own).
    static func inferredMarkerKey(in db: Database) throws -> MarkerKeyRecord {
        for row in try Row.fetchAll(
            db, sql: "SELECT operation, marker FROM license WHERE action = 'create' ORDER BY id LIMIT 20")
        {
            guard let data = row[0] as Data?, let marker = row[1] as String? else { continue }
            let request = (try? LicenseOperation(journalBytes: [UInt8](data)))?.request
            if let entry = request?.metadata?.first(where: { $0.value == marker }) { return .key(entry.key) }
        }
        return .unrecorded
    }
}

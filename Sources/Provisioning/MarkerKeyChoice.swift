import Foundation
import Journal

/// What a command was told about the marker key, and the key it then uses with a journal: the
/// journal records the key its licenses carry (``MarkerKeyRecord``), so `audit`, `undo`, `status`,
/// `plan` and `apply` of a run made with `--marker-key K` use `K` without being told again, and a
/// flag that disagrees with the journal is refused, naming both.
package enum MarkerKeyChoice: Sendable, Equatable {
    /// No flag: the journal's key, else ``RunConfiguration/defaultMarkerKey``.
    case unspecified
    /// `--marker-key KEY`.
    case key(String)
    /// `--no-marker`.
    case none

    /// The key to use with the journal at `journalPath` (nil: no marker); throws
    /// ``MarkerKeyConflict`` when the choice disagrees with what the journal records, and
    /// ``JournalError`` when the journal cannot be read. Reads the journal without writing it.
    package func resolve(journalPath: String) throws -> String? {
        let recorded = try SQLiteJournal.recordedMarkerKey(atPath: journalPath)
        try MarkerKeyConflict.check(self, recorded: recorded, journalPath: journalPath)
        switch self {
        case .unspecified: return recorded.resolved(RunConfiguration.defaultMarkerKey)
        case .key(let key): return key
        case .none: return nil
        }
    }

    /// The choice a run's effective key stands for (nil: `--no-marker`).
    package init(_ key: String?) {
        self = key.map { .key($0) } ?? .none
    }
}

/// A marker key asked for that is not the one the journal's licenses carry: used, it would make
/// every license of the journal look missing to `audit` and unfindable after a lost answer.
package struct MarkerKeyConflict: Error, LocalizedError, Sendable {
    package var journalPath: String
    package var recorded: MarkerKeyRecord
    package var requested: MarkerKeyChoice

    package var errorDescription: String? {
        let journal: String =
            switch recorded {
            case .key(let key):
                "the journal \(journalPath) records the marker key \"\(key)\" (its licenses carry their markers under it)"
            case .none, .unrecorded:
                "the journal \(journalPath) records that its licenses carry no marker (--no-marker)"
            }
        let asked: String =
            switch requested {
            case .key(let key): "--marker-key \(key)"
            case .none, .unspecified: "--no-marker"
            }
        return "\(asked) disagrees: \(journal). Leave the flag out to use the journal's, or use another journal"
    }

    static func check(_ choice: MarkerKeyChoice, recorded: MarkerKeyRecord, journalPath: String)
        throws(MarkerKeyConflict)
    {
        switch (choice, recorded) {
        case (.unspecified, _), (_, .unrecorded), (.none, .none): return
        case (.key(let asked), .key(let kept)) where asked == kept: return
        default: throw MarkerKeyConflict(journalPath: journalPath, recorded: recorded, requested: choice)
        }
    }
}

import CryptlexModels
import Foundation
import GRDB

/// A journal that cannot be opened, migrated, read or written: the run stops (exit 74).
package struct JournalError: Error, LocalizedError, Sendable {
    package var path: String
    /// What licprov was doing.
    package var operation: String
    /// SQLite's message and the failing SQL, when there was one.
    package var detail: String

    init(path: String, operation: String, _ error: any Error) {
        self.path = path
        self.operation = operation
        if let error = error as? DatabaseError {
            detail = "\(error.message ?? "SQLite error \(error.resultCode)")\(error.sql.map { " (SQL: \($0))" } ?? "")"
        } else {
            detail = String(describing: error)
        }
    }

    package var errorDescription: String? { "journal \(path): cannot \(operation): \(detail)" }
}

/// A journal that holds what this licprov does not understand: read as a default, it would be
/// acted on wrongly (an unknown state read as `pending` would be sent again), so it is refused.
struct UnreadableJournal: Error, CustomStringConvertible {
    var description: String

    /// A value in a state column this licprov does not know.
    static func unknownState(_ value: String?, table: String, id: Int64?, row: String?) -> UnreadableJournal {
        UnreadableJournal(
            description: "\(table) \(id.map { "#\($0)" } ?? "")\(row.map { " (row \($0))" } ?? "") has the state "
                + "\"\(value ?? "NULL")\", which this licprov does not know: the journal was written by a newer licprov or edited by hand. "
                + "Use a licprov at least as new as the one that wrote it")
    }
}

extension UnreadableJournal {
    /// The state stored in a `state` column of `table`; throws for a value this licprov does not know.
    static func state<State: RawRepresentable<String>>(_ value: String?, table: String, id: Int64?, row: String?) throws
        -> State
    {
        guard let value, let state = State(rawValue: value) else {
            throw unknownState(value, table: table, id: id, row: row)
        }
        return state
    }
}

extension UnreadableJournal {
    /// An action or target column this licprov cannot read.
    static func unknownValue(_ value: String?, column: String, id: Int64?) -> UnreadableJournal {
        UnreadableJournal(
            description:
                "license \(id.map { "#\($0)" } ?? "") has the \(column) \"\(value ?? "NULL")\", which this licprov does not know: "
                + "the journal was written by a newer licprov or edited by hand. Use a licprov at least as new as the one that wrote it"
        )
    }
}

extension LicenseAction {
    /// The action stored in a license's `action` column; throws for one this licprov does not know
    /// (read as a default, a change would be sent as a create).
    static func decode(_ value: String?, id: Int64?) throws -> LicenseAction {
        guard let value, let action = LicenseAction(rawValue: value) else {
            throw UnreadableJournal.unknownValue(value, column: "action", id: id)
        }
        return action
    }
}

extension LicenseTarget {
    /// The target stored in a license's `target` column (NULL for a create); throws for text that is
    /// not a target.
    static func decode(_ value: String?, id: Int64?) throws -> LicenseTarget? {
        guard let value else { return nil }
        guard let target = LicenseTarget(journalText: value) else {
            throw UnreadableJournal.unknownValue(value, column: "target", id: id)
        }
        return target
    }
}

extension JournalEntry.State {
    /// The state stored in a license's `state` column (see ``UnreadableJournal/state(_:table:id:row:)``).
    static func decode(_ value: String?, id: Int64?, rowID: String?) throws -> JournalEntry.State {
        try UnreadableJournal.state(value, table: "license", id: id, row: rowID)
    }
}

extension LicenseOperation {
    /// An operation column (NULL: not read, or no edit); throws for bytes that are not an operation.
    static func decode(_ value: Data?, column: String, id: Int64) throws -> LicenseOperation? {
        guard let value else { return nil }
        do {
            return try LicenseOperation(journalBytes: [UInt8](value))
        } catch {
            throw UnreadableJournal.unknownValue(
                String(decoding: value.prefix(200), as: UTF8.self), column: column, id: id)
        }
    }
}

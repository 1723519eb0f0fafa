import Foundation
import GRDB

/// A journal that cannot be opened, migrated, read or written: the run stops (exit 74).
public struct JournalError: Error, LocalizedError, Sendable {
    public var path: String
    /// What licprov was doing.
    public var operation: String
    /// SQLite's message and the failing SQL, when there was one.
    public var detail: String

    init(path: String, operation: String, _ error: any Error) {
        self.path = path
        self.operation = operation
        if let error = error as? DatabaseError {
            detail = "\(error.message ?? "SQLite error \(error.resultCode)")\(error.sql.map { " (SQL: \($0))" } ?? "")"
        } else {
            detail = String(describing: error)
        }
    }

    public var errorDescription: String? { "journal \(path): cannot \(operation): \(detail)" }
}

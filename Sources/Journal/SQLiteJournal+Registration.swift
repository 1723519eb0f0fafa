import CryptlexModels
import Foundation
import GRDB

/// Writes within ``SQLiteJournal/registering(_:)``: a file's intents, customers, organizations and
/// resellers, in the transaction the planner holds.
extension SQLiteJournal {
    package struct Registration {
        let db: Database
        let now: String

        /// The highest customer and directory ids so far: what a part of a file registers after
        /// this is newer (``SQLiteJournal/pendingCustomers(after:)``, ``SQLiteJournal/pendingDirectory(after:)``).
        package func lastIDs() throws -> (customer: Int64, directory: Int64) {
            (
                try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM customer") ?? 0,
                try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM directory") ?? 0
            )
        }

        /// Inserts a new intent; returns its entry id.
        package func insert(_ intent: Intent) throws -> Int64 {
            try db.cachedStatement(
                sql: """
                    INSERT INTO license (rowID, unit, sourceLine, operation, bodyHash, marker, state, attempts, error, updatedAt, customerRef, action, target,
                                         organizationRef, resellerRef)
                    VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?)
                    """
            ).execute(arguments: [
                intent.rowID, intent.unit, intent.sourceLine, Data(intent.operation.bytes), intent.bodyHash,
                intent.marker, intent.state.rawValue, intent.error, now, intent.customerRef,
                intent.operation.action.rawValue, intent.target?.journalText,
                intent.organizationRef, intent.resellerRef,
            ])
            return db.lastInsertedRowID
        }

        /// The customer with this email, registered when new.
        package func customer(email: String, firstName: String?, lastName: String?, company: String?) throws
            -> CustomerRecord
        {
            try SQLiteJournal.customer(
                email: email, firstName: firstName, lastName: lastName, company: company, now: now, in: db)
        }

        /// The organization or reseller with this name, registered when new.
        package func directory(_ kind: DirectoryEntry.Kind, name: String, body: [UInt8], resellerRef: Int64?) throws
            -> DirectoryEntry
        {
            try SQLiteJournal.directory(kind, name: name, body: body, resellerRef: resellerRef, now: now, in: db)
        }

        /// Puts a customer into an organization and reseller (the first row that names both decides).
        package func place(customer id: Int64, organizationRef: Int64?, resellerRef: Int64?) throws {
            try db.cachedStatement(
                sql: """
                    UPDATE customer SET organizationRef = COALESCE(organizationRef, ?), resellerRef = COALESCE(resellerRef, ?) WHERE id = ?
                    """
            ).execute(arguments: [organizationRef, resellerRef, id])
        }

        /// Applies a change to an existing entry.
        package func apply(_ change: EntryChange) throws {
            try SQLiteJournal.apply(change, now: now, in: db)
        }

        /// An entry's operation and target (for a dry run's sample requests).
        package func request(of id: Int64) throws -> (operation: LicenseOperation, target: LicenseTarget?)? {
            try Row.fetchOne(db, sql: "SELECT operation, target FROM license WHERE id = ?", arguments: [id]).flatMap {
                row in
                try LicenseOperation.decode(row["operation"], column: "operation", id: id).map {
                    ($0, try LicenseTarget.decode(row["target"], id: id))
                }
            }
        }

        /// The marker of an existing entry.
        package func marker(of id: Int64) throws -> String? {
            try String.fetchOne(db, sql: "SELECT marker FROM license WHERE id = ?", arguments: [id])
        }
    }
}

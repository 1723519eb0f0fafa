import CryptlexModels
import Foundation
import GRDB

/// An organization or a reseller as the journal knows it: found or created once per journal by
/// name (``DirectoryName``), however many licenses name it. The same states as a customer's.
package struct DirectoryEntry: Sendable, Equatable {
    package enum Kind: String, Sendable, CaseIterable {
        case organization, reseller
    }

    package var id: Int64
    package var kind: Kind
    /// The name as the file first spelt it.
    package var name: String
    /// The create request (JSON; an organization's without its reseller id, which is
    /// ``resellerRef``'s once resolved).
    package var body: [UInt8]
    /// An organization's reseller.
    package var resellerRef: Int64?
    package var state: CustomerRecord.State
    /// The Cryptlex id, once resolved.
    package var remoteID: String?
    package var createdByUs: Bool
    package var error: String?
}

extension SQLiteJournal {
    /// The organization or reseller with this name, registering it when new; returns its row.
    static func directory(
        _ kind: DirectoryEntry.Kind, name: String, body: [UInt8], resellerRef: Int64?, now: String, in db: Database
    ) throws -> DirectoryEntry {
        let key = DirectoryName.key(name)
        try db.cachedStatement(
            sql: """
                INSERT INTO directory (kind, name, nameKey, body, resellerRef, state, updatedAt)
                VALUES (?, ?, ?, ?, ?, 'pending', ?) ON CONFLICT(kind, nameKey) DO NOTHING
                """
        ).execute(arguments: [kind.rawValue, name, key, Data(body), resellerRef, now])
        guard
            let row = try Row.fetchOne(
                db, sql: "SELECT * FROM directory WHERE kind = ? AND nameKey = ?", arguments: [kind.rawValue, key])
        else {
            throw DatabaseError(message: "the \(kind.rawValue) \(name) vanished while being registered")
        }
        return try directory(row)
    }

    static func directory(_ row: Row) throws -> DirectoryEntry {
        let kind: String = row["kind"]
        return DirectoryEntry(
            id: row["id"],
            kind: try UnreadableJournal.state(kind, table: "directory", id: row["id"], row: row["name"]),
            name: row["name"], body: [UInt8](row["body"] as Data), resellerRef: row["resellerRef"],
            state: try UnreadableJournal.state(row["state"], table: "directory", id: row["id"], row: row["name"]),
            remoteID: row["remoteID"], createdByUs: row["createdByUs"], error: row["error"])
    }

    /// One organization or reseller by id.
    package func directoryEntry(id: Int64) throws(JournalError) -> DirectoryEntry? {
        try read("read an organization or reseller") { db in
            try Row.fetchOne(db, sql: "SELECT * FROM directory WHERE id = ?", arguments: [id]).map(Self.directory)
        }
    }

    /// Records an organization's or reseller's new state (durably: a create is marked in flight
    /// before it is sent).
    package func update(
        directory id: Int64, state: CustomerRecord.State, remoteID: String? = nil, createdByUs: Bool? = nil,
        error: String? = nil
    ) throws(JournalError) {
        try write("record an organization or reseller") { db in
            try db.execute(
                sql: """
                    UPDATE directory SET state = ?, remoteID = COALESCE(?, remoteID), createdByUs = COALESCE(?, createdByUs),
                    error = ?, updatedAt = ? WHERE id = ?
                    """, arguments: [state.rawValue, remoteID, createdByUs, error, timestamp(), id])
        }
    }

    /// Organizations and resellers not looked up yet that a license not yet settled needs: what a
    /// run resolves first, together, by name. (Every run asks; a journal with none pending — most of
    /// them — is answered without reading its licenses.)
    package func pendingDirectory() throws(JournalError) -> [DirectoryEntry] {
        try read("list organizations and resellers") { db in
            guard try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM directory WHERE state = 'pending')") == true
            else { return [] }
            return try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM directory WHERE state = 'pending' AND id IN (
                        SELECT organizationRef FROM license WHERE state NOT IN ('created', 'recovered') AND organizationRef IS NOT NULL
                        UNION SELECT resellerRef FROM license WHERE state NOT IN ('created', 'recovered') AND resellerRef IS NOT NULL
                        UNION SELECT d.resellerRef FROM directory d JOIN license l ON l.organizationRef = d.id
                            WHERE l.state NOT IN ('created', 'recovered') AND d.resellerRef IS NOT NULL)
                    ORDER BY id
                    """
            ).map(Self.directory)
        }
    }

    /// Organizations and resellers registered after entry `id` and not looked up yet (a part of a
    /// file registered while the run sends).
    package func pendingDirectory(after id: Int64) throws(JournalError) -> [DirectoryEntry] {
        try read("list organizations and resellers") { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM directory WHERE id > ? AND state = 'pending' ORDER BY id", arguments: [id]
            ).map(Self.directory)
        }
    }

    /// The Cryptlex ids of every resolved organization and reseller, by journal id (results, audit).
    package func directoryIDs() throws(JournalError) -> [Int64: String] {
        try read("read organizations and resellers") { db in
            var ids: [Int64: String] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT id, remoteID FROM directory WHERE remoteID IS NOT NULL") {
                ids[row[0]] = row[1]
            }
            return ids
        }
    }

    /// How many users, organizations and resellers licprov created (what `undo` leaves in place).
    package func createdByUs() throws(JournalError) -> (users: Int, organizations: Int, resellers: Int) {
        try read("count what licprov created") { db in
            let users = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM customer WHERE createdByUs = 1") ?? 0
            let organizations =
                try Int.fetchOne(
                    db, sql: "SELECT COUNT(*) FROM directory WHERE createdByUs = 1 AND kind = 'organization'") ?? 0
            let resellers =
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM directory WHERE createdByUs = 1 AND kind = 'reseller'")
                ?? 0
            return (users, organizations, resellers)
        }
    }

    /// How many organizations and resellers are in each state.
    package func directoryCounts() throws(JournalError) -> [DirectoryEntry.Kind: [CustomerRecord.State: Int]] {
        try read("count organizations and resellers") { db in
            var counts: [DirectoryEntry.Kind: [CustomerRecord.State: Int]] = [:]
            for row in try Row.fetchAll(
                db, sql: "SELECT kind, state, COUNT(*) AS n FROM directory GROUP BY kind, state")
            {
                let kind: DirectoryEntry.Kind = try UnreadableJournal.state(
                    row["kind"], table: "directory", id: nil, row: nil)
                let state: CustomerRecord.State = try UnreadableJournal.state(
                    row["state"], table: "directory", id: nil, row: nil)
                counts[kind, default: [:]][state] = row["n"]
            }
            return counts
        }
    }
}

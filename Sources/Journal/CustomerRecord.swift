import Foundation
import GRDB

/// A customer (a Cryptlex user) as the journal knows it: resolved once per journal, however many
/// licenses name the email.
package struct CustomerRecord: Sendable, Equatable {
    /// `pending` (not looked up yet), `inFlight` (a create was sent; look it up before sending
    /// another), `resolved` (its user id is known) or `failed`.
    package enum State: String, Sendable {
        case pending, inFlight, resolved, failed
    }

    package var id: Int64
    package var email: String
    package var firstName: String?
    package var lastName: String?
    package var company: String?
    package var state: State
    package var userID: String?
    /// True when licprov created the user (false: it existed already).
    package var createdByUs: Bool
    package var error: String?
    /// The organization and reseller a user created for the customer goes into.
    package var organizationRef: Int64?
    package var resellerRef: Int64?

    /// Emails compare case-insensitively, as Cryptlex compares them.
    package static func key(_ email: String) -> String { email.lowercased() }
}

extension SQLiteJournal {
    /// The customer with this email, registering it when new; returns its row.
    static func customer(
        email: String, firstName: String?, lastName: String?, company: String?, now: String, in db: Database
    ) throws -> CustomerRecord {
        try db.cachedStatement(
            sql: """
                INSERT INTO customer (email, emailKey, firstName, lastName, company, state, updatedAt)
                VALUES (?, ?, ?, ?, ?, 'pending', ?) ON CONFLICT(emailKey) DO NOTHING
                """
        ).execute(arguments: [email, CustomerRecord.key(email), firstName, lastName, company, now])
        guard
            let row = try Row.fetchOne(
                db, sql: "SELECT * FROM customer WHERE emailKey = ?", arguments: [CustomerRecord.key(email)])
        else {
            throw DatabaseError(message: "the customer \(email) vanished while being registered")
        }
        return try customer(row)
    }

    static func customer(_ row: Row) throws -> CustomerRecord {
        CustomerRecord(
            id: row["id"], email: row["email"], firstName: row["firstName"], lastName: row["lastName"],
            company: row["company"],
            state: try UnreadableJournal.state(row["state"], table: "customer", id: row["id"], row: row["email"]),
            userID: row["userID"], createdByUs: row["createdByUs"], error: row["error"],
            organizationRef: row["organizationRef"], resellerRef: row["resellerRef"])
    }

    /// One customer by id.
    package func customer(id: Int64) throws(JournalError) -> CustomerRecord? {
        try read("read a customer") { db in
            try Row.fetchOne(db, sql: "SELECT * FROM customer WHERE id = ?", arguments: [id]).map(Self.customer)
        }
    }

    /// Records a customer's new state (durably: a create is marked in flight before it is sent).
    package func update(
        customer id: Int64, state: CustomerRecord.State, userID: String? = nil, createdByUs: Bool? = nil,
        error: String? = nil
    ) throws(JournalError) {
        try write("record a customer") { db in
            try db.execute(
                sql: """
                    UPDATE customer SET state = ?, userID = COALESCE(?, userID), createdByUs = COALESCE(?, createdByUs),
                    error = ?, updatedAt = ? WHERE id = ?
                    """, arguments: [state.rawValue, userID, createdByUs, error, timestamp(), id])
        }
    }

    /// Customers not looked up yet whose licenses are not all settled: what a run resolves first,
    /// together (``CustomerRecord/State/pending``).
    package func pendingCustomers() throws(JournalError) -> [CustomerRecord] {
        try read("list customers") { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM customer WHERE state = 'pending'
                    AND id IN (SELECT customerRef FROM license WHERE state NOT IN ('created', 'recovered'))
                    ORDER BY id
                    """
            ).map(Self.customer)
        }
    }

    /// The user ids of the customers that change rows linked licenses to (an update with an
    /// email), by customer id: what `audit` expects those licenses' `userId` to be.
    package func linkedUserIDs() throws(JournalError) -> [Int64: String] {
        try read("read linked customers") { db in
            var ids: [Int64: String] = [:]
            for row in try Row.fetchAll(
                db,
                sql: """
                    SELECT id, userID FROM customer WHERE userID IS NOT NULL
                    AND id IN (SELECT customerRef FROM license WHERE action <> 'create')
                    """)
            { ids[row[0]] = row[1] }
            return ids
        }
    }

    /// Customers registered after customer `id` and not looked up yet: a part of a file registered
    /// while the run sends (a range of the primary key, however large the license table is).
    package func pendingCustomers(after id: Int64) throws(JournalError) -> [CustomerRecord] {
        try read("list customers") { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM customer WHERE id > ? AND state = 'pending' ORDER BY id", arguments: [id]
            ).map(Self.customer)
        }
    }

    /// How many customers are in each state.
    package func customerCounts() throws(JournalError) -> [CustomerRecord.State: Int] {
        try read("count customers") { db in
            var counts: [CustomerRecord.State: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT state, COUNT(*) AS n FROM customer GROUP BY state") {
                let state: CustomerRecord.State = try UnreadableJournal.state(
                    row["state"], table: "customer", id: nil, row: nil)
                counts[state] = row["n"]
            }
            return counts
        }
    }
}

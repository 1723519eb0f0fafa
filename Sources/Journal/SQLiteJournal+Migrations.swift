import CryptlexModels
import Foundation
import GRDB

/// The journal's schema, as migrations from an empty file. Never edit a shipped migration; add one.
///
/// ```
/// run(id, startedAt, endedAt, command, version, outcome)
/// license(id, rowID, unit, sourceLine, body, bodyHash, marker UNIQUE, state, attempts,
///         licenseID, licenseKey, httpStatus, error, updatedAt, UNIQUE(rowID, unit),
///         editedBody, editedHash)                                   -- v2
/// attempt(id, licenseRef → license, runID → run, startedAt, finishedAt, httpStatus, outcome, error)
/// run.summary                                                        -- v2
/// customer(id, email, emailKey UNIQUE, firstName, lastName, company, state, userID,
///          createdByUs, error, updatedAt)                            -- v3
/// license.customerRef → customer                                     -- v3
/// license.maybeSent: 1 once any send of the entry had an ambiguous outcome (a lost answer,
///         500/502/504, a timeout after sending): the license may exist, so every later send
///         of it is preceded by a lookup, in this run or any later one          -- v4
/// license.action ('create', 'renew', …), target (JSON: {"id"|"key"|"metadata","value"}),
///         beforeState (JSON: the fields the change touches, read before its first send),
///         afterExpiry (the expiry a renew or set-expiry left)                 -- v5
/// meta(name PRIMARY KEY, value): `journalID`, twelve random hex digits; markers of entries
///         registered from v6 on start with `lp-<journalID>-`, so one list query
///         (`metadata.value[sw]=lp-<journalID>-`) finds exactly this journal's licenses  -- v6
/// directory(id, kind 'organization'|'reseller', name, nameKey, body, resellerRef → directory,
///           state, remoteID, createdByUs, error, updatedAt, UNIQUE(kind, nameKey));
///         license.organizationRef, license.resellerRef, customer.organizationRef,
///         customer.resellerRef → directory                                      -- v7
/// an index on license.licenseID (a plan reads what licprov applied to one license)  -- v8
/// license.operation, editedOperation: the entry's ``LicenseOperation`` (its Codable JSON) in
///         place of body, editedBody (the bytes to send, placeholders for the linked ids),
///         converted by ``LegacyBody``; the request is encoded at send time; the table is
///         rebuilt without the old columns                                      -- v9
/// meta `markerKey`: the metadata key of the licenses' markers ('' for none), read from the
///         creates of an earlier journal, recorded by the first run of a new one  -- v10
/// license.bodyHash, editedHash: ``RowFingerprint``s of the typed operation (no placeholders),
///         recomputed from each entry's operation and references                -- v11
/// ```
extension SQLiteJournal {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: runs, licenses, attempts") { db in
            try db.execute(
                sql: """
                    CREATE TABLE run (
                        id INTEGER PRIMARY KEY,
                        startedAt TEXT NOT NULL,
                        endedAt TEXT,
                        command TEXT NOT NULL,
                        version TEXT NOT NULL,
                        outcome TEXT
                    );
                    CREATE TABLE license (
                        id INTEGER PRIMARY KEY,
                        rowID TEXT NOT NULL,
                        unit INTEGER NOT NULL,
                        sourceLine INTEGER NOT NULL,
                        body BLOB NOT NULL,
                        bodyHash TEXT NOT NULL,
                        marker TEXT NOT NULL UNIQUE,
                        state TEXT NOT NULL,
                        attempts INTEGER NOT NULL DEFAULT 0,
                        licenseID TEXT,
                        licenseKey TEXT,
                        httpStatus INTEGER,
                        error TEXT,
                        updatedAt TEXT NOT NULL,
                        UNIQUE (rowID, unit)
                    );
                    CREATE INDEX license_state ON license(state);
                    CREATE TABLE attempt (
                        id INTEGER PRIMARY KEY,
                        licenseRef INTEGER NOT NULL REFERENCES license(id),
                        runID INTEGER NOT NULL REFERENCES run(id),
                        startedAt TEXT NOT NULL,
                        finishedAt TEXT,
                        httpStatus INTEGER,
                        outcome TEXT,
                        error TEXT
                    );
                    CREATE INDEX attempt_license ON attempt(licenseRef);
                    """)
        }
        migrator.registerMigration("v2: edits of settled rows, run summaries") { db in
            try db.execute(
                sql: """
                    ALTER TABLE license ADD COLUMN editedBody BLOB;
                    ALTER TABLE license ADD COLUMN editedHash TEXT;
                    ALTER TABLE run ADD COLUMN summary TEXT;
                    """)
        }
        migrator.registerMigration("v3: customers") { db in
            try db.execute(
                sql: """
                    CREATE TABLE customer (
                        id INTEGER PRIMARY KEY,
                        email TEXT NOT NULL,
                        emailKey TEXT NOT NULL UNIQUE,
                        firstName TEXT,
                        lastName TEXT,
                        company TEXT,
                        state TEXT NOT NULL,
                        userID TEXT,
                        createdByUs INTEGER NOT NULL DEFAULT 0,
                        error TEXT,
                        updatedAt TEXT NOT NULL
                    );
                    ALTER TABLE license ADD COLUMN customerRef INTEGER REFERENCES customer(id);
                    """)
        }
        migrator.registerMigration("v4: entries that may exist on the server") { db in
            try db.execute(
                sql: """
                    ALTER TABLE license ADD COLUMN maybeSent INTEGER NOT NULL DEFAULT 0;
                    UPDATE license SET maybeSent = 1 WHERE state = 'inFlight'
                        OR id IN (SELECT licenseRef FROM attempt WHERE outcome = 'inFlight');
                    """)
        }
        migrator.registerMigration("v5: changes to existing licenses") { db in
            try db.execute(
                sql: """
                    ALTER TABLE license ADD COLUMN action TEXT NOT NULL DEFAULT 'create';
                    ALTER TABLE license ADD COLUMN target TEXT;
                    ALTER TABLE license ADD COLUMN beforeState TEXT;
                    ALTER TABLE license ADD COLUMN afterExpiry TEXT;
                    """)
        }
        migrator.registerMigration("v6: a journal id for marker prefixes") { db in
            try db.execute(sql: "CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)")
            let id = (0..<12).map { _ in String(Int.random(in: 0..<16), radix: 16) }.joined()
            try db.execute(sql: "INSERT INTO meta (name, value) VALUES ('journalID', ?)", arguments: [id])
        }
        migrator.registerMigration("v7: organizations and resellers") { db in
            try db.execute(
                sql: """
                    CREATE TABLE directory (
                        id INTEGER PRIMARY KEY,
                        kind TEXT NOT NULL,
                        name TEXT NOT NULL,
                        nameKey TEXT NOT NULL,
                        body BLOB NOT NULL,
                        resellerRef INTEGER REFERENCES directory(id),
                        state TEXT NOT NULL,
                        remoteID TEXT,
                        createdByUs INTEGER NOT NULL DEFAULT 0,
                        error TEXT,
                        updatedAt TEXT NOT NULL,
                        UNIQUE (kind, nameKey)
                    );
                    ALTER TABLE license ADD COLUMN organizationRef INTEGER REFERENCES directory(id);
                    ALTER TABLE license ADD COLUMN resellerRef INTEGER REFERENCES directory(id);
                    ALTER TABLE customer ADD COLUMN organizationRef INTEGER REFERENCES directory(id);
                    ALTER TABLE customer ADD COLUMN resellerRef INTEGER REFERENCES directory(id);
                    """)
        }
        migrator.registerMigration("v8: licenses by their Cryptlex id") { db in
            try db.execute(sql: "CREATE INDEX license_licenseID ON license(licenseID)")
        }
        migrator.registerMigration("v9: typed operations") { db in
            try rebuildWithOperations(db)
        }
        migrator.registerMigration("v10: the marker key") { db in
            // Read from the creates: the key of the entry whose value is the license's marker.
            if case .key(let key) = try inferredMarkerKey(in: db) {
                try db.execute(sql: "INSERT INTO meta (name, value) VALUES ('markerKey', ?)", arguments: [key])
            }
        }
        migrator.registerMigration("v11: fingerprints of the typed operation") { db in
            try refingerprint(db)
        }
        return migrator
    }

    /// v9: the license table rebuilt with each entry's operation in place of its body, as SQLite
    /// documents a change it has no `ALTER TABLE` for (`DROP COLUMN` needs SQLite 3.35; Debian 11 and
    /// Ubuntu 20.04 have older ones): a new table, filled in one `INSERT … SELECT` that converts each
    /// body with ``LegacyBody`` (a SQL function of this connection), the old table dropped, the new
    /// one renamed, its indexes made again. Foreign keys are off while a migration runs (GRDB checks
    /// them before it commits). A body that cannot be read fails the statement, naming its entry.
    private static func rebuildWithOperations(_ db: Database) throws {
        db.add(
            function: DatabaseFunction("licprov_v9_operation", argumentCount: 3, pure: true) {
                try legacyOperation($0, edited: false)
            })
        db.add(
            function: DatabaseFunction("licprov_v9_edited", argumentCount: 3, pure: true) {
                try legacyOperation($0, edited: true)
            })
        defer {
            db.remove(function: DatabaseFunction("licprov_v9_operation", argumentCount: 3) { _ in nil })
            db.remove(function: DatabaseFunction("licprov_v9_edited", argumentCount: 3) { _ in nil })
        }
        let kept = """
            id, rowID, unit, sourceLine, bodyHash, marker, state, attempts, licenseID, licenseKey, httpStatus, error, updatedAt,
            editedHash, customerRef, maybeSent, action, target, beforeState, afterExpiry, organizationRef, resellerRef
            """
        do {
            try db.execute(
                sql: """
                    CREATE TABLE license_v9 (
                        id INTEGER PRIMARY KEY,
                        rowID TEXT NOT NULL,
                        unit INTEGER NOT NULL,
                        sourceLine INTEGER NOT NULL,
                        operation BLOB NOT NULL,
                        bodyHash TEXT NOT NULL,
                        marker TEXT NOT NULL UNIQUE,
                        state TEXT NOT NULL,
                        attempts INTEGER NOT NULL DEFAULT 0,
                        licenseID TEXT,
                        licenseKey TEXT,
                        httpStatus INTEGER,
                        error TEXT,
                        updatedAt TEXT NOT NULL,
                        editedOperation BLOB,
                        editedHash TEXT,
                        customerRef INTEGER REFERENCES customer(id),
                        maybeSent INTEGER NOT NULL DEFAULT 0,
                        action TEXT NOT NULL DEFAULT 'create',
                        target TEXT,
                        beforeState TEXT,
                        afterExpiry TEXT,
                        organizationRef INTEGER REFERENCES directory(id),
                        resellerRef INTEGER REFERENCES directory(id),
                        UNIQUE (rowID, unit)
                    );
                    INSERT INTO license_v9 (\(kept), operation, editedOperation)
                        SELECT \(kept), licprov_v9_operation(id, action, body), licprov_v9_edited(id, action, editedBody) FROM license;
                    DROP TABLE license;
                    ALTER TABLE license_v9 RENAME TO license;
                    CREATE INDEX license_state ON license(state);
                    CREATE INDEX license_licenseID ON license(licenseID);
                    """)
        } catch let error as DatabaseError {
            // The function's message, without SQLite's wrapping (`SQLite error 1: …`).
            throw UnreadableJournal(description: error.message ?? "\(error)")
        }
    }

    /// v11: every entry's fingerprint recomputed from what it keeps — its operation (a create's
    /// without its marker; an edited create's without the placeholder that stood for it), its
    /// target, the keys of the customer, organization and reseller it names — as the planner
    /// computes it from the row (``RowFingerprint``), in place of the hash of the bytes journals up
    /// to v10 fingerprinted (the request with placeholders for the marker and the linked ids).
    /// 300,000 entries take about 8 s, once (`scripts/bench.sh upgrade`).
    private static func refingerprint(_ db: Database) throws {
        let sql = """
            SELECT license.id, license.marker, license.target, license.operation, license.editedOperation,
                   customer.emailKey, organization.nameKey, reseller.nameKey
            FROM license
            LEFT JOIN customer ON customer.id = license.customerRef
            LEFT JOIN directory AS organization ON organization.id = license.organizationRef
            LEFT JOIN directory AS reseller ON reseller.id = license.resellerRef
            WHERE license.id > ? ORDER BY license.id LIMIT 5000
            """
        let update = try db.makeStatement(sql: "UPDATE license SET bodyHash = ?, editedHash = ? WHERE id = ?")
        var after: Int64 = 0
        while true {
            // A part at a time, by id: memory stays flat however many entries (a journal of 300,000
            // read whole took 60 MiB more).
            let rows = try Row.fetchAll(db, sql: sql, arguments: [after])
            guard let last = rows.last else { return }
            after = last[0]
            for row in rows {
                let id: Int64 = row[0]
                let marker: String = row[1]
                let target = try LicenseTarget.decode(row[2], id: id)
                func fingerprint(_ column: Int, _ name: String, marker: String) throws -> String? {
                    guard let data = row[column] as Data? else { return nil }
                    let operation: LicenseOperation
                    do { operation = try LicenseOperation(journalBytes: [UInt8](data)) } catch {
                        throw UnreadableJournal(
                            description: "license #\(id) has \(name) this licprov cannot read: \(error)")
                    }
                    return RowFingerprint.of(
                        operation, marker: marker, target: target, customerKey: row[5], organizationKey: row[6],
                        resellerKey: row[7]
                    ).hex
                }
                guard let hash = try fingerprint(3, "an operation", marker: marker) else { continue }
                try update.execute(arguments: [
                    hash, try fingerprint(4, "an edited operation", marker: LinkPlaceholder.marker), id,
                ])
            }
        }
    }

    /// `licprov_v9_operation(id, action, body)` and `licprov_v9_edited(id, action, editedBody)`.
    private static func legacyOperation(_ arguments: [DatabaseValue], edited: Bool) throws -> Data? {
        guard let id = Int64.fromDatabaseValue(arguments[0]), let action = String.fromDatabaseValue(arguments[1]) else {
            return nil
        }
        guard let body = Data.fromDatabaseValue(arguments[2]) else { return nil }
        do {
            let operation =
                edited
                ? try LegacyBody.edited([UInt8](body), action: action)
                : try LegacyBody.operation(action: action, body: [UInt8](body))
            return Data(operation.bytes)
        } catch {
            throw UnreadableJournal(
                description:
                    "license #\(id) (\(action)) has \(edited ? "an edited body" : "a body") this licprov cannot read: \(error)"
            )
        }
    }
}

import CryptlexAPI
import CryptlexEmulator
import CryptlexModels
import Foundation
import GRDB
import Ingestion
import Journal
import Testing

@testable import Audit
@testable import Provisioning

/// Rows that change existing licenses, against the emulator over real sockets: every action,
/// targets by metadata, id and key, lost answers, and a rerun that sends nothing.
@Suite("Changing existing licenses")
struct ChangeTests {
    /// Licenses "from last month": order ids OLD-1…OLD-n, a monthly subscription ending 31 January.
    static func plantOld(_ bench: RunBench, count: Int) async throws -> [String: String] {
        var ids: [String: String] = [:]
        for index in 1...count {
            ids["OLD-\(index)"] = try await bench.createDirectly(
                #"{"productId":"prod-1","allowedActivations":1,"subscriptionInterval":"P1M","expiresAt":"2027-01-31T00:00:00Z","metadata":[{"key":"order_id","value":"OLD-\#(index)"}]}"#
            )
        }
        return ids
    }

    static let nightly = """
        event_id,action,order_id,productId,allowedActivations,expiresAt,licenseId
        NEW-1,create,ORD-NEW-1,prod-1,2,,
        NEW-2,,ORD-NEW-2,prod-1,2,,
        R-1,renew,OLD-1,,,,
        R-2,renew,OLD-2,,,,
        R-3,renew,OLD-3,,,,
        V-1,revoke,OLD-4,,,,
        S-1,suspend,OLD-5,,,,
        U-1,update,OLD-6,,9,,
        E-1,set-expiry,OLD-7,,,perpetual,
        E-2,set-expiry,OLD-8,,,2031-12-31,
        D-1,delete,OLD-9,,,,
        X-1,renew,OLD-404,,,,

        """

    func license(_ bench: RunBench, _ id: String) async -> [String: JSONValue]? {
        await bench.emulator.store.allLicenses().first { $0.objectValue?["id"] == .string(id) }?.objectValue
    }

    @Test func aNightlyFileCreatesRenewsRevokesSuspendsUpdatesAndDeletesOnce() async throws {
        // Half the answers to changes are lost (the emulator applies the change and drops the connection).
        let faults = FaultSettings(rules: [
            FaultRule(fault: .lostResponse, probability: 0.5, method: "POST"),
            FaultRule(fault: .lostResponse, probability: 0.5, method: "PATCH"),
            FaultRule(fault: .lostResponse, probability: 0.5, method: "DELETE"),
        ])
        try await withRunBench { bench in
            let old = try await Self.plantOld(bench, count: 10)
            await bench.emulator.faults.replace(with: faults)
            try bench.write(Self.nightly)
            let configuration = bench.configuration(idColumn: "event_id") { $0.ingest.targetMetadata = "order_id" }
            let report = try await bench.run(configuration)
            // Answers were lost, and settled by reading (the seed makes this run lose several).
            #expect((await bench.counters.faults["lost-response"] ?? 0) > 0)
            #expect(report.counts.recovered > 0)
            #expect(report.counts.created + report.counts.changed + report.counts.recovered == 11)
            let rows = Dictionary(
                uniqueKeysWithValues: try bench.resultRows(configuration).map { ($0["row_id"] ?? "", $0) })
            #expect(rows["R-1"]?["status"] == "renewed")
            #expect(rows["R-1"]?["expires_at"]?.hasPrefix("2027-02-28") == true)
            #expect(rows["R-1"]?["action"] == "renew")
            #expect(rows["V-1"]?["status"] == "revoked")
            #expect(rows["S-1"]?["status"] == "suspended")
            #expect(rows["U-1"]?["status"] == "updated")
            #expect(rows["E-1"]?["status"] == "expiry set")
            #expect(rows["E-2"]?["expires_at"]?.hasPrefix("2031-12-31") == true)
            #expect(rows["D-1"]?["status"] == "deleted")
            #expect(rows["X-1"]?["status"] == "rejected")
            #expect(rows["X-1"]?["message"]?.contains("no license with order_id=OLD-404") == true)
            #expect(rows["NEW-1"]?["status"] == "created" || rows["NEW-1"]?["status"] == "recovered")

            // The account: each change applied, each renewal exactly once.
            let changes = await bench.emulator.store.changesByLicense()
            for order in ["OLD-1", "OLD-2", "OLD-3"] {
                #expect(changes[old[order]!]?["renew"] == 1, "\(order): \(changes[old[order]!] ?? [:])")
                #expect(await license(bench, old[order]!)?["expiresAt"]?.stringValue?.hasPrefix("2027-02-28") == true)
            }
            #expect(await license(bench, old["OLD-4"]!)?["revoked"] == .bool(true))
            #expect(await license(bench, old["OLD-5"]!)?["suspended"] == .bool(true))
            #expect(await license(bench, old["OLD-6"]!)?["allowedActivations"] == .int(9))
            #expect(await license(bench, old["OLD-7"]!)?["expiresAt"] == .null)
            #expect(await license(bench, old["OLD-9"]!) == nil)
            #expect(changes[old["OLD-10"]!] == nil)  // nothing else touched
            // The journal kept each change's before-state.
            let before = try bench.journalRows(
                configuration, "SELECT rowID, beforeState FROM license WHERE rowID = 'R-1'")
            #expect((before.first?["beforeState"] as String?)?.contains("2027-01-31") == true)

            // A rerun sends nothing.
            let requestsBefore = await bench.counters.requests
            let rerun = try await bench.run(configuration)
            #expect(rerun.counts.requests == 0)
            #expect(await bench.counters.requests - requestsBefore <= 1)  // the preflight at most
        }
    }

    /// A renewal whose answer is lost, in a run killed before it could read the license back:
    /// the next run compares the expiry with the one recorded before the first send, and does not
    /// renew again.
    @Test func aRenewalLeftInFlightIsSettledByItsExpiryNotSentAgain() async throws {
        try await withRunBench { bench in
            let old = try await Self.plantOld(bench, count: 2)
            try bench.write("event_id,action,order_id\nR-1,renew,OLD-1\nR-2,renew,OLD-2\n")
            let configuration = bench.configuration(idColumn: "event_id") { $0.ingest.targetMetadata = "order_id" }
            // A first run that renewed both and was killed before recording the answers: in flight, with
            // the before-state it had recorded.
            _ = try await bench.run(configuration)
            try bench.journalSQL(
                configuration, "UPDATE license SET state = 'inFlight', maybeSent = 1, afterExpiry = NULL")
            let report = try await bench.run(configuration)
            #expect(report.counts.recovered == 2)
            #expect(report.counts.requests == 0)
            let changes = await bench.emulator.store.changesByLicense()
            #expect(changes[old["OLD-1"]!]?["renew"] == 1)
            #expect(changes[old["OLD-2"]!]?["renew"] == 1)
            // And one that was recorded in flight but never reached the server is sent once.
            try bench.journalSQL(
                configuration,
                "UPDATE license SET state = 'inFlight', maybeSent = 1, beforeState = '{\"expiresAt\":\"2027-02-28T00:00:00.0000000Z\"}' WHERE rowID = 'R-1'"
            )
            // (its recorded expiry is the current one: not applied yet → renewed now)
            let again = try await bench.run(configuration)
            #expect(again.counts.changed == 1)
            #expect(await bench.emulator.store.changesByLicense()[old["OLD-1"]!]?["renew"] == 2)
        }
    }

    @Test func targetsByIdAndKeyAndAnAmbiguousTarget() async throws {
        try await withRunBench { bench in
            let first = try await bench.createDirectly(
                #"{"productId":"prod-1","key":"KEY-AAAA-BBBB-0001","metadata":[{"key":"order_id","value":"DUP"}]}"#)
            let second = try await bench.createDirectly(
                #"{"productId":"prod-1","metadata":[{"key":"order_id","value":"DUP"}]}"#)
            try bench.write(
                "event_id,action,licenseId,key,order_id\nA-1,suspend,\(second),,\nA-2,revoke,,KEY-AAAA-BBBB-0001,\nA-3,revoke,,,DUP\nA-4,delete,no-such-id,,\n"
            )
            let configuration = bench.configuration(idColumn: "event_id") { $0.ingest.targetMetadata = "order_id" }
            _ = try await bench.run(configuration)
            let rows = try bench.resultRows(configuration)
            #expect(rows.map { $0["status"] } == ["suspended", "revoked", "conflict", "deleted"])
            #expect(rows[2]["message"]?.contains("matches 2 licenses") == true)
            #expect(rows[3]["message"]?.contains("already gone") == true)
            #expect(await license(bench, second)?["suspended"] == .bool(true))
            #expect(await license(bench, first)?["revoked"] == .bool(true))
        }
    }

    /// An update sends only the fields its license does not already hold: the before-state (what a
    /// lost answer is compared with and what undo restores) names only those; an update whose every
    /// field already holds sends nothing and is counted unchanged.
    @Test func anUpdateSendsOnlyWhatDiffersAndNothingWhenNothingDoes() async throws {
        try await withRunBench { bench in
            let first = try await bench.createDirectly(#"{"productId":"prod-1","allowedActivations":3,"notes":"kept"}"#)
            let second = try await bench.createDirectly(
                #"{"productId":"prod-1","allowedActivations":4,"notes":"same"}"#)
            try bench.write(
                "event_id,action,licenseId,allowedActivations,notes\nU-1,update,\(first),5,kept\nU-2,update,\(second),4,same\n"
            )
            let configuration = bench.configuration(idColumn: "event_id")
            let report = try await bench.run(configuration)
            #expect(report.counts.changed == 1)
            #expect(report.counts.unchanged == 1)
            let changes = await bench.emulator.store.changesByLicense()
            #expect(changes[first]?["update"] == 1)
            #expect(changes[second]?["update"] == nil)
            let updated = await bench.emulator.store.allLicenses().first { $0.objectValue?["id"] == .string(first) }
            #expect(updated?.objectValue?["allowedActivations"] == .int(5))
            let before = try bench.journalRows(configuration, "SELECT rowID, beforeState FROM license ORDER BY rowID")
            #expect(before.map { $0["beforeState"] as String? } == [#"{"allowedActivations":3}"#, "{}"])
            // The rerun: both already done, nothing sent.
            let rerun = try await bench.run(configuration)
            #expect(rerun.counts.alreadyDone == 2 && rerun.counts.requests == 0)
        }
    }
}

/// `licprov undo`'s plan, run as licprov runs any file of changes.
@Suite("Undoing what a journal did")
struct UndoTests {
    /// Issue 15: undo of an actions run restores the before-state of renewals, revocations,
    /// suspensions, updates and expiries; licenses it created are deleted; a deletion is listed as
    /// not reversible; a second undo sends nothing.
    @Test func undoOfAnActionsRunRestoresTheBeforeState() async throws {
        try await withRunBench { bench in
            let old = try await ChangeTests.plantOld(bench, count: 10)
            try bench.write(ChangeTests.nightly)
            let configuration = bench.configuration(idColumn: "event_id") { $0.ingest.targetMetadata = "order_id" }
            _ = try await bench.run(configuration)
            let created = await bench.counters.licensesCreated

            let plan = try UndoPlan.plan(journalPath: configuration.journalPath)
            #expect(plan.licensesToRemove == 2)
            #expect(plan.irreversible.count == 1)  // D-1 deleted OLD-9
            // As `licprov undo` runs it: the plan's typed rows, with a journal of their own.
            var undo = RunConfiguration(
                inputPath: bench.directory + "/undo", ingest: .init(idColumn: UndoPlan.idColumn),
                journalPath: bench.directory + "/undo.sqlite")
            undo.derivedRows = DerivedRows(plan.rows)
            undo.rate = nil
            undo.keepIDAsMetadata = false
            undo.reconcileDelay = .milliseconds(10)
            await bench.emulator.faults.replace(
                with: FaultSettings(rules: [FaultRule(fault: .lostResponse, probability: 0.3)]))
            let report = try await bench.run(undo)
            #expect(report.counts.rejected == 0 && report.counts.failed == 0, "\(report.counts)")
            await bench.emulator.faults.replace(with: FaultSettings())

            func field(_ order: String, _ name: String) async -> JSONValue? {
                await bench.emulator.store.allLicenses().first { $0.objectValue?["id"] == .string(old[order]!) }?
                    .objectValue?[name]
            }
            for order in ["OLD-1", "OLD-2", "OLD-3"] {  // renewed, then set back
                #expect(await field(order, "expiresAt")?.stringValue?.hasPrefix("2027-01-31") == true, "\(order)")
            }
            #expect(await field("OLD-4", "revoked") == .bool(false))
            #expect(await field("OLD-5", "suspended") == .bool(false))
            #expect(await field("OLD-6", "allowedActivations") == .int(1))
            #expect(await field("OLD-7", "expiresAt")?.stringValue?.hasPrefix("2027-01-31") == true)
            #expect(await field("OLD-8", "expiresAt")?.stringValue?.hasPrefix("2027-01-31") == true)
            // The two licenses the nightly file created are gone; the 8 old ones that remain stay.
            #expect(await bench.emulator.store.allLicenses().count == 10 + created - 10 - 1 - 2)
            #expect(await field("OLD-10", "expiresAt")?.stringValue?.hasPrefix("2027-01-31") == true)

            // The same undo again sends nothing.
            let requests = await bench.counters.requests
            let again = try await bench.run(undo)
            #expect(again.counts.requests == 0)
            #expect(await bench.counters.requests == requests)
        }
    }
}

extension UndoTests {
    /// `--run N` takes back only what that run sent; `--mode revoke` revokes instead of deleting.
    @Test func undoOfOneRunRevokesOnlyItsLicenses() async throws {
        try await withRunBench { bench in
            try bench.write(ordersHeader + orders(3))
            let configuration = bench.configuration(idColumn: "order_id")
            _ = try await bench.run(configuration)  // run 1: ORD-1…3
            try bench.write(ordersHeader + orders(5))
            _ = try await bench.run(configuration)  // run 2: ORD-4, ORD-5
            let plan = try UndoPlan.plan(journalPath: configuration.journalPath, run: 2, mode: .revoke)
            #expect(plan.licensesToRemove == 2)
            #expect(plan.rows.allSatisfy { $0.action == .revoke })
            let second = try bench.journalRows(
                configuration, "SELECT licenseID FROM license WHERE rowID IN ('ORD-4', 'ORD-5') ORDER BY rowID"
            )
            .map { LicenseTarget.id($0["licenseID"] as String) }
            #expect(Set(plan.rows.compactMap(\.target)) == Set(second))
            #expect(try UndoPlan.plan(journalPath: configuration.journalPath).licensesToRemove == 5)
        }
    }

    /// An update that moves a license to another customer makes no user when the license does not
    /// exist: the target is found first; the one that exists is moved, its customer created once.
    @Test func anUpdateToAnotherCustomerMakesNoUserForALicenseThatIsNotThere() async throws {
        try await withRunBench { bench in
            let id = try await bench.createDirectly(#"{"productId":"prod-1"}"#)
            try bench.write(
                "order_id,action,licenseId,email\nX-1,update,no-such-license,ghost@example.com\nX-2,update,\(id),new@example.com\n"
            )
            let report = try await bench.run(bench.configuration(idColumn: "order_id"))
            #expect(report.counts.rejected == 1)
            #expect(report.counts.changed == 1)
            let users = await bench.emulator.store.allUsers().compactMap { user -> String? in
                if case .object(let fields) = user, case .string(let email)? = fields["email"] { email } else { nil }
            }
            #expect(users == ["new@example.com"])
            let license = await bench.emulator.store.allLicenses().first
            if case .object(let fields)? = license, case .object(let user)? = fields["user"] {
                #expect(user["email"] == .string("new@example.com"))
            } else {
                Issue.record("the license has no user")
            }
        }
    }
}

import CryptlexAPI
import CryptlexEmulator
import Foundation
import Ingestion
import Testing

@testable import Audit
@testable import Provisioning
@testable import Sync

/// `licprov plan`'s comparison against the emulator over real sockets: what it plans, what it
/// refuses to guess, and what it costs.
@Suite("plan: a file as the desired state against the account")
struct SyncPlannerTests {
    func plan(_ bench: RunBench, prune: SyncPlanner.PruneMode? = nil, maxPrune: Int? = nil) async throws -> SyncPlan {
        let configuration = bench.configuration(idColumn: "order_id")
        let client = try bench.client()
        defer { Task { try? await client.shutdown() } }
        return try await SyncPlanner.plan(
            configuration: configuration,
            options: .init(prune: prune, maxPrune: maxPrune, journalPath: bench.directory + "/apply.sqlite"),
            client: client)
    }

    /// 250 licenses made by `run` (which keeps the order id), planned against the same file: all
    /// unchanged, three list requests (100 a page), no write.
    @Test func anUnchangedFileCostsOneRequestAHundredLicensesAndNoWrite() async throws {
        try await withRunBench { bench in
            try bench.write(ordersHeader + orders(250))
            _ = try await bench.run(bench.configuration(idColumn: "order_id"))
            let before = await bench.counters
            let plan = try await plan(bench)
            #expect(plan.isEmpty)
            #expect(plan.unchanged == 250)
            #expect(plan.managed == 250)
            #expect(plan.requests == 3)
            let after = await bench.counters
            #expect(after.requests - before.requests == 3)
            #expect(
                after.licenseCreateRequests == before.licenseCreateRequests
                    && after.licenseUpdates == before.licenseUpdates)
        }
    }

    /// Two licenses for a row that wants one: a conflict naming both, nothing planned for it; a row
    /// that wants three with one present: two creates; a field the API cannot update: a note.
    @Test func conflictsQuantitiesAndFieldsThatCannotChange() async throws {
        try await withRunBench { bench in
            try bench.write(
                "order_id,productId,allowedActivations,type\nA-1,prod-1,2,node-locked\nA-2,prod-1,2,node-locked\nA-3,prod-1,2,node-locked\n"
            )
            _ = try await bench.run(bench.configuration(idColumn: "order_id"))
            _ = try await bench.createDirectly(#"{"productId":"prod-1","metadata":[{"key":"order_id","value":"A-1"}]}"#)
            try bench.write(
                "order_id,productId,allowedActivations,type,quantity\nA-1,prod-1,2,node-locked,1\nA-2,prod-1,2,node-locked,3\nA-3,prod-1,2,hosted-floating,1\n"
            )
            let plan = try await plan(bench)
            #expect(plan.conflicts.map(\.order) == ["A-1"])
            #expect(plan.conflicts.first?.licenseIDs.count == 2)
            #expect(plan.steps.map(\.kind) == [.create, .create])
            #expect(plan.steps.map(\.syncID) == ["create:A-2:1", "create:A-2:2"])
            #expect(plan.notes.count == 1)
            #expect(plan.notes.first?.contains("type differs") == true)
        }
    }

    /// Prune candidates are counted and left alone without --prune; with it, planned up to the
    /// rail, and refused past it.
    @Test func pruningNeedsAskingAndStopsAtTheRail() async throws {
        try await withRunBench { bench in
            try bench.write(ordersHeader + orders(30))
            _ = try await bench.run(bench.configuration(idColumn: "order_id"))
            try bench.write(ordersHeader + orders(26))
            let quiet = try await plan(bench)
            #expect(quiet.isEmpty)
            #expect(quiet.pruneCandidates == 4)
            #expect(quiet.text.contains("4 not in the file left alone"))
            await #expect(throws: SyncPlanner.PruneRefused.self) { try await plan(bench, prune: .suspend) }
            let pruned = try await plan(bench, prune: .suspend, maxPrune: 4)
            #expect(pruned.steps.map(\.kind) == [.suspend, .suspend, .suspend, .suspend])
            #expect(pruned.steps.allSatisfy { $0.prune })
        }
    }

    /// A shop's status column through a value table (`paid` → not revoked, `refunded` → revoked):
    /// the plan revokes the refunded order's license and leaves the paid ones alone.
    @Test func aStatusColumnThroughAValueTableBecomesRevocations() async throws {
        try await withRunBench { bench in
            try bench.write(ordersHeader + orders(3))
            _ = try await bench.run(bench.configuration(idColumn: "order_id"))
            try bench.write(
                "order_id,productId,allowedActivations,status\nORD-1,prod-1,2,paid\nORD-2,prod-1,2,Refunded\nORD-3,prod-1,2,paid\n"
            )
            var configuration = bench.configuration(idColumn: "order_id")
            configuration.ingest.valueTables = [
                ValueTable(
                    column: "status",
                    entries: [
                        .init(value: "paid", fields: [.init(name: "revoked", value: "false")]),
                        .init(value: "refunded", fields: [.init(name: "revoked", value: "true")]),
                    ])
            ]
            let client = try bench.client()
            let plan = try await SyncPlanner.plan(
                configuration: configuration, options: .init(journalPath: bench.directory + "/apply.sqlite"),
                client: client)
            try await client.shutdown()
            #expect(plan.steps.map(\.kind) == [.revoke])
            #expect(plan.steps.first?.order == "ORD-2")
            #expect(plan.unchanged == 2)
        }
    }

    /// The email of the user each license of `order` is linked to, from the emulator.
    func userEmails(_ bench: RunBench, order: String) async -> [String?] {
        await bench.emulator.store.allLicenses().compactMap { license -> String?? in
            guard case .object(let fields) = license, case .array(let entries)? = fields["metadata"] else { return nil }
            let ofOrder = entries.contains {
                if case .object(let entry) = $0 {
                    entry["key"] == .string("order_id") && entry["value"] == .string(order)
                } else {
                    false
                }
            }
            guard ofOrder else { return nil }
            if case .object(let user)? = fields["user"], case .string(let email)? = user["email"] {
                return .some(email)
            }
            return .some(nil)
        }
    }

    /// A row whose customer email changed: one update that links its license to that customer
    /// (created with the row's name), applied exactly once while half the answers to the PATCHes and
    /// user creates are lost; the same email in another case is the same customer; then the plan
    /// is empty. A license linked to another user by hand is drift, restored.
    @Test func aChangedEmailLinksTheLicenseToThatCustomer() async throws {
        try await withRunBench { bench in
            try bench.write(
                "order_id,productId,allowedActivations,email\nORD-1,prod-1,2,a@example.com\nORD-2,prod-1,2,b@example.com\nORD-3,prod-1,2,c@example.com\n"
            )
            _ = try await bench.run(bench.configuration(idColumn: "order_id"))
            try bench.write(
                "order_id,productId,allowedActivations,email,firstName\n"
                    + "ORD-1,prod-1,2,a@example.com,\nORD-2,prod-1,2,B@Example.com,\nORD-3,prod-1,2,new@example.com,Nina\n"
            )
            let plan = try await plan(bench)
            #expect(plan.steps.map(\.kind) == [.update])
            #expect(plan.steps.first?.order == "ORD-3")
            #expect(plan.text.contains("~ update ORD-3"))
            #expect(plan.text.contains("email c@example.com → new@example.com"))

            // Apply as `licprov apply` does: the plan's rows as a journaled run of their own.
            let apply = bench.configuration(idColumn: SyncPlan.syncIDColumn) {
                $0.inputPath = bench.directory + "/apply"
                $0.derivedRows = DerivedRows(plan.rows())
                $0.journalPath = bench.directory + "/apply.sqlite"
                $0.resultsPath = bench.directory + "/apply.results.csv"
                $0.keepIDAsMetadata = false
            }
            let usersBefore = await bench.counters.userCreateRequests
            await bench.emulator.faults.replace(
                with: FaultSettings(rules: [
                    FaultRule(fault: .lostResponse, probability: 0.5, method: "PATCH"),
                    FaultRule(fault: .lostResponse, probability: 0.5, method: "POST"),
                ]))
            for _ in 0..<3 { _ = try await bench.run(apply) }
            await bench.emulator.faults.replace(with: FaultSettings())
            #expect(await userEmails(bench, order: "ORD-3") == ["new@example.com"])
            #expect(await userEmails(bench, order: "ORD-2") == ["b@example.com"])
            let made = await bench.emulator.store.allUsers().filter {
                if case .object(let user) = $0 { user["email"] == .string("new@example.com") } else { false }
            }
            #expect(made.count == 1)
            if case .object(let user)? = made.first { #expect(user["firstName"] == .string("Nina")) }
            #expect(await bench.counters.userCreateRequests - usersBefore >= 1)
            #expect(try await self.plan(bench).isEmpty)
            let auditClient = try bench.client()
            let clean = try await JournalAudit.run(
                journalPath: apply.journalPath, client: auditClient, configuration: apply)
            try await auditClient.shutdown()
            #expect(clean.findings.map(\.kind) == [.ok])

            // By hand, ORD-3's license goes to b@example.com's user: the plan restores new@example.com's,
            // as drift (the apply's journal linked it); ORD-1's moved too, but no apply touched it.
            let client = try bench.client()
            let links = await bench.emulator.store.allLicenses().compactMap {
                license -> (email: String, license: String, user: String)? in
                guard case .object(let fields) = license, case .string(let id)? = fields["id"],
                    case .object(let user)? = fields["user"],
                    case .string(let email)? = user["email"], case .string(let userID)? = user["id"]
                else { return nil }
                return (email, id, userID)
            }
            let userB = try #require(links.first { $0.email == "b@example.com" }?.user)
            for moved in ["new@example.com", "a@example.com"] {
                let license = try #require(links.first { $0.email == moved }?.license)
                _ = try await client.updateLicense(id: license, body: Array(#"{"userId":"\#(userB)"}"#.utf8))
            }
            // audit of the apply's journal: ORD-3's license is no longer linked to the user the update set.
            let audit = try await JournalAudit.run(journalPath: apply.journalPath, client: client, configuration: apply)
            try await client.shutdown()
            #expect(audit.findings.map(\.kind) == [.changed])
            #expect(audit.findings.first?.detail.hasPrefix("userId: licprov set") == true)
            let drifted = try await self.plan(bench)
            #expect(drifted.steps.map(\.order) == ["ORD-1", "ORD-3"])
            #expect(drifted.steps.map(\.drift) == [nil, true])
            #expect(
                drifted.text.contains(
                    "email b@example.com → new@example.com [drift: the account changed; restoring the file's]"))
        }
    }
}

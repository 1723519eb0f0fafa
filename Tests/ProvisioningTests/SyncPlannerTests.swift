import CryptlexAPI
import CryptlexEmulator
import Foundation
import Ingestion
import Testing
@testable import Provisioning

/// `licprov plan`'s comparison against the emulator over real sockets: what it plans, what it
/// refuses to guess, and what it costs.
@Suite("plan: a file as the desired state against the account")
struct SyncPlannerTests {
    func plan(_ bench: RunBench, prune: SyncPlanner.PruneMode? = nil, maxPrune: Int? = nil) async throws -> SyncPlan {
        let configuration = bench.configuration(idColumn: "order_id")
        let client = CryptlexClient(baseURL: try CryptlexBaseURL(bench.url), token: "test-token",
                                    transport: AsyncHTTPClientTransport(connections: 2, connectTimeout: .seconds(5)))
        defer { Task { try? await client.shutdown() } }
        return try await SyncPlanner.plan(configuration: configuration,
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
            #expect(after.licenseCreateRequests == before.licenseCreateRequests && after.licenseUpdates == before.licenseUpdates)
        }
    }

    /// Two licenses for a row that wants one: a conflict naming both, nothing planned for it; a row
    /// that wants three with one present: two creates; a field the API cannot update: a note.
    @Test func conflictsQuantitiesAndFieldsThatCannotChange() async throws {
        try await withRunBench { bench in
            try bench.write("order_id,productId,allowedActivations,type\nA-1,prod-1,2,node-locked\nA-2,prod-1,2,node-locked\nA-3,prod-1,2,node-locked\n")
            _ = try await bench.run(bench.configuration(idColumn: "order_id"))
            _ = try await bench.createDirectly(#"{"productId":"prod-1","metadata":[{"key":"order_id","value":"A-1"}]}"#)
            try bench.write("order_id,productId,allowedActivations,type,quantity\nA-1,prod-1,2,node-locked,1\nA-2,prod-1,2,node-locked,3\nA-3,prod-1,2,hosted-floating,1\n")
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
            try bench.write("order_id,productId,allowedActivations,status\nORD-1,prod-1,2,paid\nORD-2,prod-1,2,Refunded\nORD-3,prod-1,2,paid\n")
            var configuration = bench.configuration(idColumn: "order_id")
            configuration.ingest.valueTables = [ValueTable(column: "status", entries: [
                .init(value: "paid", fields: [.init(name: "revoked", value: "false")]),
                .init(value: "refunded", fields: [.init(name: "revoked", value: "true")]),
            ])]
            let client = CryptlexClient(baseURL: try CryptlexBaseURL(bench.url), token: "test-token",
                                        transport: AsyncHTTPClientTransport(connections: 2, connectTimeout: .seconds(5)))
            let plan = try await SyncPlanner.plan(configuration: configuration, options: .init(journalPath: bench.directory + "/apply.sqlite"),
                                                  client: client)
            try await client.shutdown()
            #expect(plan.steps.map(\.kind) == [.revoke])
            #expect(plan.steps.first?.order == "ORD-2")
            #expect(plan.unchanged == 2)
        }
    }
}

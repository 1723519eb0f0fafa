import CryptlexEmulator
import Foundation
import GRDB
import Journal
import Scheduling
import Testing

@testable import Audit
@testable import Provisioning

/// Promises kept at the edges: what may exist is looked up before any new send, in any later run;
/// a journal licprov cannot fully read is refused before anything is sent; 429s are bounded.
@Suite("Promises at the edges")
struct EdgeTests {
    static func emulator(_ settings: FaultSettings) -> EmulatorConfiguration {
        EmulatorConfiguration(token: "test-token", products: ["prod-1"], rateLimit: nil, faults: settings)
    }

    /// A license whose send was ambiguous, and whose lookup found nothing, ends `failed`. The
    /// server may still have it (a 500 after processing; a lagging index): the next run looks it
    /// up before sending — found: recovered, nothing sent; absent: sent once. (Before the fix the
    /// next run sent it blindly: two licenses when it existed.)
    @Test(arguments: [true, false])
    func anEntryThatFailedAfterAnAmbiguousSendIsLookedUpByTheNextRun(existsMeanwhile: Bool) async throws {
        let settings = FaultSettings(rules: [FaultRule(fault: .http500, count: 1, method: "POST", path: "/v3/licenses")]
        )
        try await withRunBench(Self.emulator(settings)) { bench in
            try bench.write(ordersHeader + orders(3))
            let configuration = bench.configuration(idColumn: "order_id") {
                $0.retry = RetryPolicy(base: .milliseconds(10), cap: .milliseconds(50), maxAttempts: 1)
                $0.concurrency = 1
            }
            let first = try await bench.run(configuration)
            #expect(first.counts.failed == 1)
            let failed = try bench.journalRows(
                configuration, "SELECT marker, operation, maybeSent FROM license WHERE state = 'failed'")
            #expect(failed.count == 1)
            #expect(failed.first?["maybeSent"] as Int? == 1)
            let marker: String = failed[0]["marker"]
            // The server did create it after all (a 500 after processing, a late write): plant it.
            let planted = existsMeanwhile ? try await bench.createDirectly(operation: failed[0]["operation"]) : nil
            let postsBefore = await bench.counters.licenseCreateRequests

            let second = try await bench.run(configuration)
            #expect(second.counts.lookups == 1)
            #expect(second.counts.recovered == (existsMeanwhile ? 1 : 0))
            #expect(second.counts.created == (existsMeanwhile ? 0 : 1))
            #expect(await bench.counters.licenseCreateRequests == postsBefore + (existsMeanwhile ? 0 : 1))
            let withMarker = await bench.licenses().filter { $0.marker == marker }
            #expect(withMarker.count == 1)
            if let planted { #expect(withMarker.map(\.id) == [planted]) }
            #expect(await bench.licenses().count == 3)
        }
    }

    /// The lookup-lag rule with the default delay: a search index 3 s behind writes and 10 % lost
    /// answers make no duplicate, because a miss is trusted only `reconcileDelay` (5 s) after the
    /// ambiguous answer.
    @Test func aThreeSecondLookupLagWithTenPercentLostAnswersMakesNoDuplicateWithDefaults() async throws {
        let settings = FaultSettings(
            rules: [FaultRule(fault: .lostResponse, probability: 0.1, method: "POST")],
            lookupLagMilliseconds: 3_000)
        try await withRunBench(Self.emulator(settings)) { bench in
            try bench.write(ordersHeader + orders(120))
            let configuration = bench.configuration(idColumn: "order_id") {
                $0.reconcileDelay = RunConfiguration(inputPath: "x", ingest: .init()).reconcileDelay
                $0.concurrency = 8
            }
            #expect(configuration.reconcileDelay == .seconds(5))
            let report = try await bench.run(configuration)
            #expect(report.counts.created + report.counts.recovered == 120)
            #expect(report.counts.recovered > 0, "the fault rate should have lost some answers")
            let licenses = await bench.licenses()
            #expect(licenses.count == 120)
            #expect(Set(licenses.compactMap(\.marker)).count == 120)
        }
    }

    /// A journal with a migration this licprov does not know is refused before anything is sent.
    @Test func aJournalFromANewerLicprovIsRefusedBeforeAnythingIsSent() async throws {
        try await withRunBench { bench in
            try bench.write(ordersHeader + orders(2))
            let configuration = bench.configuration(idColumn: "order_id")
            _ = try await bench.run(configuration)
            try bench.journalSQL(
                configuration, "INSERT INTO grdb_migrations (identifier) VALUES ('v9: something newer')")
            try bench.write(ordersHeader + orders(4))
            let requests = await bench.counters.requests
            let error = await #expect(throws: JournalError.self) { try await bench.run(configuration) }
            #expect(error?.localizedDescription.contains("written by a newer licprov") == true)
            #expect(error?.localizedDescription.contains("v9: something newer") == true)
            #expect(await bench.counters.requests == requests)
        }
    }

    /// An unknown state is an error naming the row, never read as `pending` (which would resend it).
    @Test func anUnknownStateIsAnErrorNamingTheRowNotAPendingEntry() async throws {
        try await withRunBench { bench in
            try bench.write(ordersHeader + orders(3))
            let configuration = bench.configuration(idColumn: "order_id")
            _ = try await bench.run(configuration)
            try bench.journalSQL(configuration, "UPDATE license SET state = 'archived' WHERE rowID = 'ORD-2'")
            let requests = await bench.counters.requests
            let error = await #expect(throws: JournalError.self) { try await bench.run(configuration) }
            #expect(error?.localizedDescription.contains("(row ORD-2) has the state \"archived\"") == true)
            #expect(await bench.counters.requests == requests)
            #expect(throws: JournalError.self) { try JournalReport.status(journalPath: configuration.journalPath) }
        }
    }

    /// A server (or proxy) that answers nothing but 429 stops the run once the budget is spent,
    /// like an interrupted run: the journal flushed, the results written.
    @Test func nothingBut429sStopsTheRunOnceTheBudgetIsSpent() async throws {
        let settings = FaultSettings(rules: [FaultRule(fault: .http429, probability: 1)], retryAfterSeconds: 0)
        try await withRunBench(Self.emulator(settings)) { bench in
            try bench.write(ordersHeader + orders(5))
            let configuration = bench.configuration(idColumn: "order_id") { $0.max429s = 7 }
            let report = try await bench.run(configuration)
            guard case .stopped(.rateLimited(let reason)) = report.ending else {
                Issue.record("expected a rate-limited stop, got \(report.ending)")
                return
            }
            #expect(reason.contains("7 answers in a row were 429"))
            #expect(report.counts.tooManyRequests == 7)
            #expect(await bench.licenses().isEmpty)
            let rows = try bench.resultRows(configuration)
            #expect(rows.count == 5)
            #expect(rows.allSatisfy { $0["status"] == "not sent" })
            let states = try bench.journalRows(configuration, "SELECT state FROM license").map { $0["state"] as String }
            #expect(states == Array(repeating: "pending", count: 5))
        }
    }

    /// Issue 13: a run killed with 32 licenses in flight settles them with at most 2 lookup
    /// requests at the server (the preflight's and one `metadata.value[in]` of 32 markers), then
    /// sends only what is absent. Half of them were created before the kill (their answers lost).
    @Test func thirtyTwoEntriesLeftInFlightAreSettledWithOneBatchedLookup() async throws {
        try await withRunBench { bench in
            try bench.write(ordersHeader + orders(40))
            let configuration = bench.configuration(idColumn: "order_id")
            try await bench.registerWithoutSending(configuration)
            try bench.journalSQL(
                configuration,
                "UPDATE license SET state = 'inFlight' WHERE rowID IN ("
                    + (1...32).map { "'ORD-\($0)'" }.joined(separator: ",") + ")")
            // 16 of the 32 made it to the server before the kill.
            for row in try bench.journalRows(
                configuration, "SELECT operation FROM license WHERE state = 'inFlight' ORDER BY id LIMIT 16")
            {
                _ = try await bench.createDirectly(operation: row["operation"])
            }
            let lookupsBefore = await bench.counters.licenseLookups
            let report = try await bench.run(configuration)
            #expect(await bench.counters.licenseLookups - lookupsBefore <= 2)
            #expect(report.counts.lookups == 1)
            #expect(report.counts.recovered == 16)
            #expect(report.counts.created == 24)
            let licenses = await bench.licenses()
            #expect(licenses.count == 40)
            #expect(Set(licenses.compactMap(\.marker)).count == 40)
        }
    }

    /// A batched lookup that returns two licenses for one marker: that entry is a conflict naming
    /// both (no third is created), the other entry of the batch, absent, is sent once.
    @Test func aBatchedLookupWithTwoMatchesForOneMarkerIsAConflict() async throws {
        try await withRunBench { bench in
            try bench.write(ordersHeader + orders(2))
            let configuration = bench.configuration(idColumn: "order_id")
            try await bench.registerWithoutSending(configuration)
            try bench.journalSQL(configuration, "UPDATE license SET state = 'inFlight'")
            let operation =
                try bench.journalRows(configuration, "SELECT operation FROM license WHERE rowID = 'ORD-1'")[0][
                    "operation"] as Data
            for _ in 0..<2 { _ = try await bench.createDirectly(operation: operation) }
            let report = try await bench.run(configuration)
            #expect(report.counts.lookups == 1)
            #expect(report.counts.conflicts == 1)
            #expect(report.counts.created == 1)
            #expect(await bench.licenses().count == 3)
            let conflict = try bench.resultRows(configuration).first { $0["row_id"] == "ORD-1" }
            #expect(conflict?["status"] == "conflict")
            #expect(conflict?["message"]?.contains("is on 2 licenses") == true)
        }
    }
}

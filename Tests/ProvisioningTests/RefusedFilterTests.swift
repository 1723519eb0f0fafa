import CryptlexAPI
import CryptlexEmulator
import CryptlexModels
import Foundation
import Ingestion
import Journal
import Testing

@testable import Audit
@testable import Provisioning

/// A server that refuses the `in` and `sw` list operators (400): every lookup falls back to one
/// value a request with `eq` (or a read by id) for the rest of the run. Correct results, more
/// requests, never a failure — and never a row left in flight for the next run to find again.
@Suite("A server that refuses in and sw")
struct RefusedFilterTests {
    static func emulator(refusing operators: Set<String> = ["in", "sw"]) -> EmulatorConfiguration {
        EmulatorConfiguration(token: "test-token", products: ["prod-1"], rateLimit: nil, refusedOperators: operators)
    }

    /// 120 orders for 40 customers (20 of them already in the account), 20 of the orders left in
    /// flight by a "crash" (5 of which had reached the server), 10 answers lost: every license made
    /// exactly once and linked; then an audit finds them all, and a change file applies.
    @Test func aRunAnAuditAndAChangeFileFallBackToOneValueARequest() async throws {
        try await withRunBench(Self.emulator()) { bench in
            for customer in 0..<20 {
                _ = try await bench.emulator.store.createUser(
                    [
                        "email": .string("buyer\(customer)@shop.example"), "firstName": .string("Existing"),
                        "password": .string("an-old-password"),
                    ], nowTicks: 0)
            }
            try bench.write(
                "order_id,productId,email\n"
                    + (0..<120).map { "F-\($0),prod-1,buyer\($0 % 40)@shop.example\n" }.joined())
            let configuration = bench.configuration(idColumn: "order_id") { $0.concurrency = 8 }
            try await bench.registerWithoutSending(configuration)
            try bench.journalSQL(
                configuration,
                "UPDATE license SET state = 'inFlight', attempts = 1 WHERE rowID IN ("
                    + (0..<20).map { "'F-\($0)'" }.joined(separator: ",") + ")")
            let markers = try bench.markers(configuration)
            for index in 0..<5 {
                let marker = markers["F-\(index)"]!
                _ = try await bench.createDirectly(
                    #"{"productId":"prod-1","metadata":[{"key":"licprov_request","value":"\#(marker)"},{"key":"order_id","value":"F-\#(index)"}]}"#
                )
            }

            await bench.emulator.faults.replace(
                with: FaultSettings(rules: [
                    FaultRule(fault: .lostResponse, count: 10, method: "POST", path: "/v3/licenses")
                ]))
            let report = try await bench.run(configuration)
            #expect(report.counts.failed == 0)
            #expect(report.counts.created + report.counts.recovered == 120)
            #expect(report.counts.usersFound == 20 && report.counts.usersCreated == 20)
            let licenses = await bench.emulator.store.allLicenses()
            #expect(licenses.count == 120)
            let byMarker = Dictionary(grouping: licenses) { license in
                license.objectValue?["metadata"]?.arrayValue?.compactMap(\.objectValue).first {
                    $0["key"] == .string("licprov_request")
                }?["value"]?.stringValue ?? ""
            }
            #expect(byMarker.count == 120 && byMarker.values.allSatisfy { $0.count == 1 }, "no duplicates")
            // Every license the run sent is linked (the 5 planted ones were made without a user).
            #expect(licenses.count { $0.objectValue?["userId"]?.stringValue?.isEmpty == false } == 115)
            let counters = await bench.counters
            #expect(counters.badRequests == 1)  // the first refused in; the run remembers it for every later lookup
            // One lookup a marker for the 20 left in flight, one a customer: more requests than the
            // batched ones (1 and 1), never a failure.
            #expect(counters.userLookups >= 20)

            // The audit lists the journal's markers by value, one a request, and finds them all.
            let client = try bench.client()
            let audit = try await JournalAudit.run(
                journalPath: configuration.journalPath, client: client, configuration: configuration)
            try await client.shutdown()
            #expect(audit.counts[.ok] == 120)
            #expect(audit.isClean)
            #expect(audit.requests >= 120)
            #expect(audit.notes.contains { $0.contains("metadata.value[sw]") })

            // A change file with targets by id, by key and by order id.
            let rows = try bench.resultRows(configuration)
            let ids = rows.compactMap { $0["license_id"] }
            let keys = rows.compactMap { $0["license_key"] }
            let changeFile = bench.directory + "/changes.csv"
            try
                ("change_id,action,licenseId,key,order_id\n"
                + (0..<10).map { "C-\($0),revoke,\(ids[$0]),,\n" }.joined()
                + (10..<20).map { "C-\($0),suspend,,\(keys[$0]),\n" }.joined()
                + (20..<30).map { "C-\($0),revoke,,,F-\($0)\n" }.joined()).write(
                    toFile: changeFile, atomically: true, encoding: .utf8)
            var changes = RunConfiguration(inputPath: changeFile, ingest: IngestOptions(idColumn: "change_id"))
            changes.rate = nil
            changes.reconcileDelay = .milliseconds(10)
            changes.ingest.targetMetadata = "order_id"
            let changed = try await bench.run(changes)
            #expect(changed.counts.changed == 30)
            #expect(changed.counts.failed == 0 && changed.counts.rejected == 0)
            let after = await bench.emulator.store.allLicenses().compactMap(\.objectValue)
            #expect(after.count { $0["revoked"] == .bool(true) } == 20)
            #expect(after.count { $0["suspended"] == .bool(true) } == 10)
        }
    }
}

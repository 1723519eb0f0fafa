import CryptlexEmulator
import Foundation
import Journal
import Testing

@testable import Provisioning

/// Rows removed from the file (or now invalid) after a run left them in flight: a send of each may
/// have taken effect, so the next run finds out — looks the license up, reads the change's
/// license — and never sends one (found by the simulation: such an entry stayed `unknown` for
/// good, and `audit` told the user to run again, which did nothing).
@Suite("Rows no longer in the file")
struct RowsGoneTests {
    @Test func aCreateLeftInFlightIsLookedUpAfterItsRowLeftTheFileAndNeverSent() async throws {
        try await withRunBench { bench in
            try bench.write(ordersHeader + orders(3))
            let configuration = bench.configuration(idColumn: "order_id")
            let existing = try await bench.killedWithTwoInFlight(configuration)
            // Then both rows were taken out of the file.
            try bench.write(ordersHeader + orders(1, from: 3))

            let report = try await bench.run(configuration)
            #expect(report.counts.recovered == 1)
            #expect(report.counts.notInFile == 1)
            #expect(report.counts.created == 1)
            #expect(await bench.counters.licenseCreateRequests == 2)  // the direct one + ORD-3
            let states = try bench.journalRows(
                configuration, "SELECT rowID, state, licenseID FROM license ORDER BY rowID"
            )
            .map { ($0["rowID"] as String, $0["state"] as String, $0["licenseID"] as String?) }
            #expect(states.map(\.0) == ["ORD-1", "ORD-2", "ORD-3"])
            #expect(states[0].1 == "recovered" && states[0].2 == existing)
            #expect(states[1].1 == "pending")
            // The results list the file's rows; a run again sends nothing, and looks nothing up.
            #expect(try bench.resultRows(configuration).map { $0["row_id"] } == ["ORD-3"])
            let again = try await bench.run(configuration)
            #expect(again.counts.requests == 0 && again.counts.lookups == 0)
            #expect(await bench.counters.licenseCreateRequests == 2)
        }
    }

    @Test func aChangeLeftInFlightIsReadAfterItsRowLeftTheFileAndNeverSent() async throws {
        try await withRunBench { bench in
            let old = try await ChangeTests.plantOld(bench, count: 2)
            try bench.write("event_id,action,order_id\nS-1,suspend,OLD-1\nS-2,suspend,OLD-2\n")
            let configuration = bench.configuration(idColumn: "event_id") { $0.ingest.targetMetadata = "order_id" }
            // A run that suspended both and was killed before recording the answers; then someone
            // unsuspended OLD-2 by hand (as if its request had never arrived), and both rows left the file.
            _ = try await bench.run(configuration)
            try bench.journalSQL(configuration, "UPDATE license SET state = 'inFlight', maybeSent = 1")
            _ = try await bench.emulator.store.updateLicense(
                id: old["OLD-2"]!, ["suspended": .bool(false)], nowTicks: bench.emulator.clock.nowTicks)
            let updates = await bench.counters.licenseUpdates
            try bench.write("event_id,action,order_id\n")

            let report = try await bench.run(configuration)
            #expect(report.counts.recovered == 1)
            #expect(report.counts.notInFile == 1)
            #expect(report.counts.requests == 0)
            #expect(await bench.counters.licenseUpdates == updates)
            let states = try bench.journalRows(configuration, "SELECT rowID, state FROM license ORDER BY rowID")
                .map { ($0["rowID"] as String, $0["state"] as String) }
            #expect(states.map(\.1) == ["recovered", "pending"])
        }
    }
}

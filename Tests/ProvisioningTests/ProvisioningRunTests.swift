import CryptlexEmulator
import Foundation
import GRDB
import Journal
import Scheduling
import Testing

@testable import Audit
@testable import Provisioning

@Suite("licprov run against the emulator: resume and results")
struct ProvisioningRunTests {
    @Test func aRunCreatesEveryLicenseOnceAndARerunSendsNothing() async throws {
        try await withRunBench { bench in
            try bench.write(ordersHeader + orders(12))
            let configuration = bench.configuration(idColumn: "order_id")
            let first = try await bench.run(configuration)
            #expect(first.ending == .finished)
            #expect(first.counts.created == 12)
            #expect(!first.hasUnsettledRows)
            let rows = try bench.resultRows(configuration)
            #expect(rows.map { $0["status"] } == Array(repeating: "created", count: 12))
            #expect(rows.map { $0["row_id"] } == (1...12).map { "ORD-\($0)" })
            // The keys in the results are the emulator's keys, and every license carries a distinct marker.
            let licenses = await bench.licenses()
            #expect(Set(rows.compactMap { $0["license_key"] }) == Set(licenses.map(\.key)))
            #expect(Set(licenses.compactMap(\.marker)).count == 12)
            let resultsBefore = try bench.results(configuration)

            let second = try await bench.run(configuration)
            #expect(second.counts.created == 0)
            #expect(second.counts.alreadyDone == 12)
            #expect(await bench.counters.licenseCreateRequests == 12)
            #expect(await bench.counters.licenseLookups == 1)  // the second run's preflight; the first one's was 1 too
            #expect(try bench.results(configuration) == resultsBefore)
        }
    }

    @Test func aFileWithInvalidRowsIsRefusedUnlessSkipInvalid() async throws {
        try await withRunBench { bench in
            try bench.write(ordersHeader + "ORD-1,prod-1,2\nORD-2,prod-1,lots\nORD-3,prod-1,1\n")
            let refused = try await bench.run(bench.configuration(idColumn: "order_id"))
            #expect(refused.ending == .refused)
            #expect(refused.problems.map(\.line) == [3])
            #expect(await bench.counters.requests == 0)
            #expect(!FileManager.default.fileExists(atPath: bench.configuration().resultsPath))

            let configuration = bench.configuration(idColumn: "order_id") { $0.skipInvalid = true }
            let skipped = try await bench.run(configuration)
            #expect(skipped.counts.created == 2)
            #expect(skipped.counts.rejected == 1)
            #expect(skipped.hasUnsettledRows)
            let rows = try bench.resultRows(configuration)
            #expect(rows.map { $0["status"] } == ["created", "rejected", "created"])
            #expect(rows[1]["message"]?.contains("allowedActivations") == true)

            // Fixed in the file, the row is sent with its new values; the others are untouched.
            try bench.write(ordersHeader + "ORD-1,prod-1,2\nORD-2,prod-1,7\nORD-3,prod-1,1\n")
            let fixed = try await bench.run(configuration)
            #expect(fixed.counts.created == 1)
            #expect(fixed.counts.alreadyDone == 2)
            #expect(await bench.counters.licenseCreateRequests == 3)
            #expect(try bench.resultRows(configuration).map { $0["status"] } == ["created", "created", "created"])
        }
    }

    @Test func aRowTheServerRejectedIsSentAgainOnlyOnceItChanges() async throws {
        try await withRunBench { bench in
            try bench.write(ordersHeader + "ORD-1,prod-1,2\nORD-2,prod-unknown,2\n")
            let configuration = bench.configuration(idColumn: "order_id")
            let first = try await bench.run(configuration)
            #expect(first.counts.rejected == 1)
            #expect(try bench.resultRows(configuration)[1]["http_status"] == "400")
            _ = try await bench.run(configuration)
            #expect(await bench.counters.licenseCreateRequests == 2)  // unchanged: not sent again

            try bench.write(ordersHeader + "ORD-1,prod-1,2\nORD-2,prod-1,2\n")
            let fixed = try await bench.run(configuration)
            #expect(fixed.counts.created == 1)
            #expect(await bench.counters.licensesCreated == 2)
        }
    }

    @Test func rowsAppendedToTheFileAreTheOnlyOnesSent() async throws {
        try await withRunBench { bench in
            // Without an id column a row is its position: appending keeps every earlier row where it was.
            let configuration = bench.configuration { $0.ingest.unknownColumns = .ignore }
            try bench.write(ordersHeader + orders(5))
            _ = try await bench.run(configuration)
            try bench.write(ordersHeader + orders(5) + orders(3, from: 6))
            let second = try await bench.run(configuration)
            #expect(second.counts.created == 3)
            #expect(second.counts.alreadyDone == 5)
            #expect(await bench.counters.licensesCreated == 8)
        }
    }

    @Test func aRowEditedAfterItsLicenseWasCreatedIsAConflictNotASecondLicense() async throws {
        try await withRunBench { bench in
            let configuration = bench.configuration(idColumn: "order_id")
            try bench.write(ordersHeader + orders(3))
            _ = try await bench.run(configuration)
            try bench.write(ordersHeader + "ORD-1,prod-1,2\nORD-2,prod-1,9\nORD-3,prod-1,2\n")
            let edited = try await bench.run(configuration)
            #expect(edited.counts.conflicts == 1)
            #expect(edited.hasUnsettledRows)
            #expect(await bench.counters.licenseCreateRequests == 3)
            let row = try bench.resultRows(configuration)[1]
            #expect(row["status"] == "conflict")
            #expect(row["license_key"]?.isEmpty == false)
            #expect(row["message"]?.contains("allowedActivations 2 → 9") == true)
            // Status and export agree with the run.
            let status = try JournalReport.status(journalPath: configuration.journalPath)
            #expect(status.editedSinceCreated == 1)
            #expect(
                try JournalReport.export(journalPath: configuration.journalPath).map(\.status) == [
                    "created", "conflict", "created",
                ])
            // Put back, the conflict goes away.
            try bench.write(ordersHeader + orders(3))
            let restored = try await bench.run(configuration)
            #expect(restored.counts.conflicts == 0)
            #expect(!restored.hasUnsettledRows)
        }
    }

    @Test func twoIdenticalRowsWithoutAnIdColumnAreTwoOrders() async throws {
        try await withRunBench { bench in
            let configuration = bench.configuration()
            try bench.write("productId,allowedActivations\nprod-1,2\nprod-1,2\n")
            let first = try await bench.run(configuration)
            #expect(first.counts.created == 2)
            _ = try await bench.run(configuration)
            #expect(await bench.counters.licensesCreated == 2)
            #expect(try bench.resultRows(configuration).map { $0["row_id"] } == ["#1", "#2"])
        }
    }

    @Test func aRegeneratedResortedFileWithAnIdColumnCreatesNothingTwice() async throws {
        try await withRunBench { bench in
            let configuration = bench.configuration(idColumn: "order_id")
            try bench.write(ordersHeader + orders(6))
            _ = try await bench.run(configuration)
            try bench.write(
                "allowedActivations,order_id,productId\n" + (1...6).reversed().map { "2,ORD-\($0),prod-1\n" }.joined())
            let second = try await bench.run(configuration)
            #expect(second.counts.alreadyDone == 6)
            #expect(second.counts.conflicts == 0)
            #expect(await bench.counters.licenseCreateRequests == 6)
            #expect(try bench.resultRows(configuration).map { $0["row_id"] } == (1...6).reversed().map { "ORD-\($0)" })
        }
    }

    @Test func quantityMakesThatManyLicensesEachItsOwnLine() async throws {
        try await withRunBench { bench in
            let configuration = bench.configuration(idColumn: "order_id")
            try bench.write("order_id,productId,quantity\nQ-1,prod-1,3\nQ-2,prod-1,1\n")
            #expect(try await bench.run(configuration).counts.created == 4)
            _ = try await bench.run(configuration)
            #expect(await bench.counters.licensesCreated == 4)
            #expect(
                try bench.resultRows(configuration).map { "\($0["row_id"]!)/\($0["unit"]!)" } == [
                    "Q-1/1", "Q-1/2", "Q-1/3", "Q-2/1",
                ])
        }
    }

    @Test func aRefusedTokenStopsTheRunBeforeAnyCreate() async throws {
        try await withRunBench { bench in
            try bench.write(ordersHeader + orders(5))
            let report = try await bench.run(bench.configuration(idColumn: "order_id"), token: "wrong-token")
            guard case .stopped(.accessDenied) = report.ending else {
                Issue.record("expected the run to stop on the token, got \(report.ending)")
                return
            }
            #expect(await bench.counters.licenseCreateRequests == 0)
            #expect(report.counts.notSent == 5)
            // The journal holds the intents; a rerun with a good token sends them.
            let rerun = try await bench.run(bench.configuration(idColumn: "order_id"))
            #expect(rerun.counts.created == 5)
        }
    }

    /// Found by the simulation (a token revoked before a run): with customers, organizations and
    /// resellers to look up, the refused preflight was followed by three more refused lookups.
    @Test func aRefusedTokenIsTheOnlyRequestSentEvenWithCustomersAndCompaniesToLookUp() async throws {
        try await withRunBench { bench in
            try bench.write(
                "order_id,productId,email,organization.name,organization.email,reseller.name,reseller.email\n"
                    + (1...4).map { "O-\($0),prod-1,c\($0)@example.com,Org \($0),o\($0)@example.com,R,r@example.com\n" }
                    .joined())
            let report = try await bench.run(bench.configuration(idColumn: "order_id"), token: "wrong-token")
            guard case .stopped(.accessDenied) = report.ending else {
                Issue.record("expected the run to stop on the token, got \(report.ending)")
                return
            }
            #expect(await bench.counters.unauthorized == 1)
            let rerun = try await bench.run(bench.configuration(idColumn: "order_id"))
            #expect(rerun.counts.created == 4)
            #expect(await bench.emulator.store.allOrganizations().count == 4)
        }
    }

    /// With no client-side limit (`--rate 0`), 429s still make each request wait its `Retry-After`:
    /// no storm of refusals (which would spend the 429 budget and stop the run), every license once.
    /// (That a 429 pauses every worker through the shared limiter is `RetryExecutorTests`'.)
    /// Two a window: eight workers sent together after the first license meet 429s (on the bench's
    /// manual clock they arrive at the same instant, however loaded the machine; the client reads
    /// the server's rate-limit headers against the same wall clock as the emulator's).
    @Test func tooManyRequestsAreWaitedOutAndEveryLicenseIsStillCreatedOnce() async throws {
        try await withRunBench(
            EmulatorConfiguration(token: "test-token", products: ["prod-1"], rateLimit: 2, rateWindowSeconds: 1)
        ) { bench in
            try bench.write(ordersHeader + orders(10))
            let report = try await bench.run(
                bench.configuration(idColumn: "order_id") {
                    $0.concurrency = 8
                    $0.max429s = 60
                })
            #expect(report.ending == .finished)
            #expect(report.counts.created == 10)
            #expect(report.counts.tooManyRequests > 0)
            // At most one refusal per worker per window, and a window refuses only once its 2 are in:
            // at most 5 such windows for 10 licenses, however slow the machine.
            #expect(report.counts.tooManyRequests <= 8 * 5)
            #expect(await bench.counters.licensesCreated == 10)
        }
    }

    @Test func theLimiterDrawsNo429FromAFixedWindow() async throws {
        // 20 requests per 2 s window; a bucket of 5/s with a burst of 1 puts at most 1 + 5 × 2 requests
        // into any window (on the bench's manual clock, with no arrival jitter). 41 requests by eight
        // workers with no limiter would be refused from the 21st.
        try await withRunBench(
            EmulatorConfiguration(token: "test-token", products: ["prod-1"], rateLimit: 20, rateWindowSeconds: 2)
        ) { bench in
            try bench.write(ordersHeader + orders(40))
            let report = try await bench.run(
                bench.configuration(idColumn: "order_id") {
                    $0.rate = 5
                    $0.burst = 1
                    $0.concurrency = 8
                })
            #expect(report.counts.created == 40)
            #expect(await bench.counters.rateLimited == 0)
        }
    }

    @Test func aStopRequestFinishesWhatIsInFlightAndARerunSendsTheRest() async throws {
        try await withRunBench(
            EmulatorConfiguration(
                token: "test-token", products: ["prod-1"], rateLimit: nil,
                faults: FaultSettings(latencyMilliseconds: 30))
        ) { bench in
            try bench.write(ordersHeader + orders(40))
            let stop = StopSignal()
            let configuration = bench.configuration(idColumn: "order_id") { $0.concurrency = 2 }
            async let report = bench.run(configuration, stop: stop)
            let deadline = ContinuousClock.now + .seconds(30)
            while await bench.counters.licensesCreated < 4, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(5))
            }
            stop.request(.interrupted)
            let stopped = try await report
            #expect(stopped.ending == .stopped(.interrupted))
            let created = await bench.counters.licensesCreated
            #expect(created < 40)
            #expect(stopped.counts.created == created)
            #expect(stopped.counts.notSent == 40 - created)
            #expect(try bench.resultRows(configuration).filter { $0["status"] == "not sent" }.count == 40 - created)
            let rerun = try await bench.run(configuration)
            #expect(rerun.counts.created == 40 - created)
            #expect(await bench.counters.licenseCreateRequests == 40)
        }
    }

    @Test func maxFailuresStopsARunWhoseRowsKeepFailing() async throws {
        try await withRunBench { bench in
            try bench.write("order_id,productId\nF-0,prod-1\n" + (1...30).map { "F-\($0),prod-missing\n" }.joined())
            let report = try await bench.run(
                bench.configuration(idColumn: "order_id") {
                    $0.maxFailures = 3
                    $0.concurrency = 1
                })
            #expect(report.ending == .stopped(.tooManyFailures(3)))
            #expect(report.counts.rejected == 3)
            #expect(await bench.counters.licenseCreateRequests == 4)
            #expect(report.counts.notSent == 27)
        }
    }

    @Test func aFirstLicenseTheServerRejectsStopsTheRunAfterOneRequest() async throws {
        try await withRunBench { bench in
            try bench.write("order_id,productId\n" + (1...50).map { "P-\($0),prod-typo\n" }.joined())
            let report = try await bench.run(bench.configuration(idColumn: "order_id") { $0.concurrency = 8 })
            guard case .stopped(.firstItemRejected(let reason)) = report.ending else {
                Issue.record("expected the run to stop on its first license, got \(report.ending)")
                return
            }
            #expect(reason.contains("prod-typo"))
            #expect(await bench.counters.licenseCreateRequests == 1)
            #expect(report.counts.notSent == 49)
        }
    }

    /// A fresh file of 6,000 orders is registered in parts while it is sent (500 rows, then 2,000,
    /// then 3,500): every license once, each part's new customers looked up together (600 emails:
    /// 6 lookups, not 600), every row in the results, and a rerun sends nothing.
    @Test func aFreshFileIsRegisteredInPartsWhileItIsSent() async throws {
        try await withRunBench { bench in
            try bench.write(
                "order_id,productId,allowedActivations,email\n"
                    + (1...6_000).map { "P-\($0),prod-1,2,c\($0 % 600)@example.com\n" }.joined())
            let configuration = bench.configuration(idColumn: "order_id")
            let report = try await bench.run(configuration)
            #expect(report.ending == .finished)
            #expect(report.parts == 3)
            #expect(report.counts.created == 6_000)
            let counters = await bench.counters
            #expect(counters.licensesCreated == 6_000)
            #expect(counters.userCreateRequests == 600)
            #expect(counters.userLookups == 6)
            #expect(try bench.resultRows(configuration).filter { $0["status"] == "created" }.count == 6_000)
            let rerun = try await bench.run(configuration)
            #expect(rerun.counts.alreadyDone == 6_000)
            #expect(rerun.parts == 0)  // a journal with entries: planned whole, as before
            #expect(await bench.counters.requests == counters.requests)
        }
    }

    /// A run that stops for a failure while the file is still being registered in parts (its first
    /// license refused) lets registering finish: the results list every row, none lost.
    @Test func aStopWhileRegisteringInPartsStillListsEveryRow() async throws {
        try await withRunBench { bench in
            try bench.write("order_id,productId\n" + (1...5_000).map { "Q-\($0),prod-typo\n" }.joined())
            let configuration = bench.configuration(idColumn: "order_id")
            let report = try await bench.run(configuration)
            guard case .stopped(.firstItemRejected) = report.ending else {
                Issue.record("expected the run to stop on its first license, got \(report.ending)")
                return
            }
            #expect(await bench.counters.licenseCreateRequests == 1)
            #expect(report.counts.notSent == 4_999)
            let rows = try bench.resultRows(configuration)
            #expect(rows.count == 5_000)
            #expect(Set(rows.compactMap { $0["row_id"] }).count == 5_000)
        }
    }
}

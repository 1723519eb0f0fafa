import CryptlexAPI
import CryptlexEmulator
import CryptlexModels
import Foundation
import Journal
import Testing

@testable import Audit
@testable import Provisioning

/// `licprov audit` against the emulator over real sockets.
@Suite("Auditing the account against the journal")
struct AuditTests {
    func audit(_ bench: RunBench, _ configuration: RunConfiguration) async throws -> JournalAudit.Report {
        let client = try bench.client()
        let report = try await JournalAudit.run(
            journalPath: configuration.journalPath, client: client, configuration: configuration)
        try await client.shutdown()
        return report
    }

    /// Issue 15: after 300 creates, a planted duplicate and a license deleted by hand are exactly
    /// one `duplicate` and one `missing`, found in at most 5 + 300/100 requests.
    @Test func aDuplicateAndALicenseDeletedByHandAreFoundInAFewRequests() async throws {
        try await withRunBench { bench in
            try bench.write(ordersHeader + orders(300))
            let configuration = bench.configuration(idColumn: "order_id")
            let run = try await bench.run(configuration)
            #expect(run.counts.created == 300)
            let clean = try await audit(bench, configuration)
            #expect(clean.isClean)
            #expect(clean.counts[.ok] == 300)

            // A second license with ORD-7's marker, and ORD-12's license deleted by hand.
            let markers = try bench.markers(configuration)
            let planted = try await bench.createDirectly(
                #"{"productId":"prod-1","allowedActivations":2,"metadata":[{"key":"licprov_request","value":"\#(markers["ORD-7"]!)"}]}"#
            )
            let deleted = try #require(
                try bench.journalRows(configuration, "SELECT licenseID FROM license WHERE rowID = 'ORD-12'").first?[
                    "licenseID"] as String?)
            try await bench.emulator.store.deleteLicense(id: deleted)

            let before = await bench.counters.requests
            let report = try await audit(bench, configuration)
            #expect(await bench.counters.requests - before == report.requests)
            #expect(report.requests <= 5 + 300 / 100, "\(report.requests) requests")
            #expect(report.counts[.duplicate] == 1)
            #expect(report.counts[.missing] == 1)
            #expect(report.counts[.ok] == 298)
            let duplicate = try #require(report.findings.first { $0.kind == .duplicate })
            #expect(duplicate.rowID == "ORD-7")
            #expect(duplicate.licenseIDs.last == planted)  // the journal's own license first, the extra after it
            #expect(report.findings.first { $0.kind == .missing }?.rowID == "ORD-12")
            #expect(report.extraLicenses.map(\.licenseID) == [planted])
        }
    }

    /// A field licprov set, or changed with an action, that differs now is `changed`; a license
    /// with this journal's prefix the journal never recorded is `unknown`.
    @Test func changedFieldsAndUnknownLicensesAreReported() async throws {
        try await withRunBench { bench in
            try bench.write(ordersHeader + orders(3))
            let configuration = bench.configuration(idColumn: "order_id")
            _ = try await bench.run(configuration)
            let prefix = try SQLiteJournal(path: configuration.journalPath).markerPrefix()
            _ = try await bench.createDirectly(
                #"{"productId":"prod-1","metadata":[{"key":"licprov_request","value":"\#(prefix)stray"}]}"#)
            let id = try #require(
                try bench.journalRows(configuration, "SELECT licenseID FROM license WHERE rowID = 'ORD-2'").first?[
                    "licenseID"] as String?)
            _ = try await bench.emulator.store.updateLicense(id: id, ["allowedActivations": .int(40)], nowTicks: 0)

            let report = try await audit(bench, configuration)
            #expect(report.counts[.changed] == 1)
            #expect(
                report.findings.first { $0.kind == .changed }?.detail
                    == "allowedActivations: licprov set 2, the account has 40")
            #expect(report.counts[.unknown] == 1)
            #expect(report.findings.first { $0.kind == .unknown }?.marker == prefix + "stray")
        }
    }
}

import CryptlexAPI
import Foundation
import Ingestion
import Journal
import Logging
import Scheduling
import TestSupport
import Testing

@testable import APIRequests
@testable import Provisioning

/// A server that refuses a user's create as existing (409) while its search never shows the user.
@Suite("A customer the server says exists but never shows", .timeLimit(.minutes(1)))
struct CustomerConflictTests {
    /// The resolver gives up after the run's attempts, with a message naming the 409 and the
    /// lookups, instead of asking forever (a planted bug in the simulation made this loop endless).
    @Test func theCreateAndLookupLoopIsBounded() async throws {
        let transport = WorkerClockTests.ScriptedTransport { request, _ in
            if request.method == "POST" {
                return TransportResponse(
                    status: 409, headers: [("Content-Type", "application/json")],
                    body: Array(#"{"message":"A user with this email already exists.","code":"UserEmailExists"}"#.utf8))
            }
            return TransportResponse(
                status: 200, headers: [("Content-Type", "application/json")], body: Array("[]".utf8))
        }
        let directory = try ScratchRoot.directory("customer-conflict")
        let journal = try SQLiteJournal(path: directory.appendingPathComponent("run.licprov.sqlite").path)
        let customer = try journal.registering { registration in
            try registration.customer(email: "ann@example.com", firstName: "Ann", lastName: nil, company: nil)
        }
        var configuration = RunConfiguration(inputPath: "-", ingest: IngestOptions())
        configuration.rate = nil
        configuration.windowLimit = nil
        configuration.retry = RetryPolicy(base: .milliseconds(1), cap: .milliseconds(2), maxAttempts: 4)
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let requests = RunRequests.make(configuration, stop: StopSignal(), counters: RunCounters(), logger: logger)
        let client = CryptlexClient(
            baseURL: try CryptlexBaseURL("https://api.cryptlex.com"), token: "secret-token", transport: transport)
        let resolver = CustomerResolver(
            journal: journal, client: client, requests: requests, createUsers: true, reconcileDelay: .milliseconds(1),
            logger: logger)
        let result = await resolver.resolve(customer.id)
        guard case .failure(let failure) = result else {
            Issue.record("resolved: \(result)")
            return
        }
        #expect(failure.message.contains("409"))
        #expect(failure.message.contains("did not find it"))
        let creates = transport.requests.filter { $0.method == "POST" }.count
        #expect(creates == 4, "\(creates) creates")
    }
}

import CryptlexAPI
import CryptlexModels
import Foundation
import Ingestion
import Journal
import Logging
import Scheduling
import Synchronization
import TestSupport
import Testing

@testable import APIRequests
@testable import Provisioning

/// The license and change workers on a manual clock, over a scripted transport: no sockets and no sleeps. Each
/// test holds the clock still where a real run would wait (the lookup delay after a lost answer, a
/// 429's pause, a backoff), checks that nothing went out meanwhile, then moves the clock on.
@Suite("The workers on a manual clock", .timeLimit(.minutes(1)))
struct WorkerClockTests {
    static let marker = "lp-test-1"

    /// A transport that answers from a script and keeps every request it was given.
    final class ScriptedTransport: HTTPTransport {
        typealias Script =
            @Sendable (_ request: TransportRequest, _ index: Int) throws(TransportError) -> TransportResponse
        private let script: Script
        private let sent = Mutex<[TransportRequest]>([])

        init(_ script: @escaping Script) { self.script = script }

        var requests: [(method: String, url: String)] { sent.withLock { $0.map { ($0.method, $0.url) } } }
        var count: Int { sent.withLock { $0.count } }

        func send(_ request: TransportRequest) async throws(TransportError) -> TransportResponse {
            let index = sent.withLock {
                $0.append(request)
                return $0.count - 1
            }
            return try script(request, index)
        }

        func shutdown() async throws {}
    }

    /// One pending create in a fresh journal, and a worker for it on `clock`.
    struct Rig {
        let journal: SQLiteJournal
        let committer: JournalCommitter
        let worker: LicenseWorker
        let changes: ChangeWorker
        let item: LoadedItem
        let counters: RunCounters
        let stop: StopSignal

        /// `change`: the entry changes license `L1` (by id) instead of creating one.
        init(
            clock: ManualClock, transport: ScriptedTransport, key: String? = nil, rate: Double? = nil,
            change: LicenseOperation? = nil
        ) throws {
            let directory = try ScratchRoot.directory("worker-clock")
            journal = try SQLiteJournal(path: directory.appendingPathComponent("run.licprov.sqlite").path)
            let run = try journal.beginRun(command: "test", version: "test")
            var request = LicenseRequest(productId: "product-1")
            request.key = key
            request.metadata = [LicenseMetadata(key: RunConfiguration.defaultMarkerKey, value: WorkerClockTests.marker)]
            let operation = change ?? .create(request)
            let entryID = try journal.registering { registration in
                try registration.insert(
                    Intent(
                        rowID: "row-1", unit: 1, sourceLine: 2, operation: StoredOperation(operation), bodyHash: "h",
                        marker: WorkerClockTests.marker, target: change.map { _ in .id("L1") }))
            }
            var configuration = RunConfiguration(inputPath: "-", ingest: IngestOptions())
            configuration.rate = rate
            configuration.windowLimit = nil
            configuration.retry = RetryPolicy(base: .seconds(1), cap: .seconds(8), maxAttempts: 4)
            configuration.reconcileDelay = .seconds(2)
            var logger = Logger(label: "test")
            logger.logLevel = .critical
            stop = StopSignal()
            counters = RunCounters()
            let requests = RunRequests.make(
                configuration, stop: stop, counters: counters, logger: logger, clock: RunClock(clock))
            let client = CryptlexClient(
                baseURL: try CryptlexBaseURL("https://api.cryptlex.com"), token: "secret-token", transport: transport)
            committer = JournalCommitter(journal: journal, run: run)
            var worker = LicenseWorker(
                client: client,
                customers: CustomerResolver(
                    journal: journal, client: client, requests: requests, createUsers: false,
                    reconcileDelay: configuration.reconcileDelay, logger: logger),
                directory: DirectoryResolver(
                    journal: journal, client: client, requests: requests,
                    reconcileDelay: configuration.reconcileDelay, logger: logger),
                requests: requests, committer: committer, markerKey: configuration.markerKey,
                reconcileDelay: configuration.reconcileDelay, maxFailures: 0, logger: logger)
            worker.markerLookups = MarkerLookups(
                requests: requests, client: client, markerKey: RunConfiguration.defaultMarkerKey,
                gather: .seconds(1))
            self.worker = worker
            changes = ChangeWorker(
                client: client, requests: requests, committer: committer, maxFailures: 0, logger: logger)
            item = LoadedItem(
                entryID: entryID, rowID: "row-1", marker: WorkerClockTests.marker,
                request: change == nil ? request : nil, needsLookup: false,
                change: change.map {
                    LoadedItem.Change(
                        operation: $0, target: .id("L1"), beforeState: nil, licenseID: nil, maybeSent: false)
                })
        }

        /// The entry as the journal holds it once everything posted is on disk.
        func entry() async throws -> JournalEntry? {
            try await committer.flush()
            return try journal.entry(id: item.entryID)
        }
    }

    static func license(id: String, key: String, marker: String) -> [UInt8] {
        Array(
            #"{"id":"\#(id)","key":"\#(key)","productId":"product-1","metadata":[{"key":"licprov_request","value":"\#(marker)"}]}"#
                .utf8)
    }

    @Test("a lost answer is looked up by marker only after the reconcile delay; found, it is not sent again")
    func lostAnswerFoundByTheLookup() async throws {
        let clock = ManualClock()
        let transport = ScriptedTransport { request, index throws(TransportError) in
            switch (request.method, index) {
            case ("POST", 0): throw .connectionLost("reset by peer")
            case ("GET", _):
                return TransportResponse(
                    status: 200,
                    body: Array("[".utf8) + Self.license(id: "L1", key: "K1", marker: Self.marker) + Array("]".utf8))
            default: return TransportResponse(status: 500)
            }
        }
        let rig = try Rig(clock: clock, transport: transport)
        let settling = Task { try await rig.worker.settle(rig.item) }
        // The lookup waits on the clock: 2 s after the lost answer.
        await clock.waitForSleepers(1)
        #expect(transport.requests.map(\.method) == ["POST"])
        clock.advance(by: .milliseconds(1_999))
        #expect(clock.sleeperCount == 1)
        #expect(transport.count == 1)
        clock.advance(by: .milliseconds(1))
        #expect(try await settling.value == nil)
        #expect(transport.requests.map(\.method) == ["POST", "GET"])
        #expect(transport.requests[1].url.contains("metadata.value"))
        let entry = try #require(try await rig.entry())
        #expect(entry.state == .recovered)
        #expect(entry.licenseID == "L1")
        #expect(
            rig.counters.snapshot.recovered == 1 && rig.counters.snapshot.ambiguous == 1
                && rig.counters.snapshot.created == 0)
    }

    @Test("a lost answer the lookup does not find is sent once more, after the delay")
    func lostAnswerAbsentIsSentAgain() async throws {
        let clock = ManualClock()
        let transport = ScriptedTransport { request, index throws(TransportError) in
            switch request.method {
            case "POST" where index == 0: throw .timedOut("no answer in 30 s")
            case "POST":
                return TransportResponse(status: 201, body: Self.license(id: "L2", key: "K2", marker: Self.marker))
            default: return TransportResponse(status: 200, body: Array("[]".utf8))
            }
        }
        let rig = try Rig(clock: clock, transport: transport)
        let settling = Task { try await rig.worker.settle(rig.item) }
        await clock.waitForSleepers(1)
        #expect(transport.count == 1)
        clock.advance(by: .seconds(2))
        #expect(try await settling.value == nil)
        #expect(transport.requests.map(\.method) == ["POST", "GET", "POST"])
        let entry = try #require(try await rig.entry())
        #expect(entry.state == .created)
        #expect(entry.licenseID == "L2")
        #expect(rig.counters.snapshot.created == 1 && rig.counters.snapshot.retries == 1)
    }

    @Test(
        "a renewal whose answer was lost is read back, not sent again, when the expiry moved", arguments: [true, false])
    func lostRenewalIsReadBack(tookEffect: Bool) async throws {
        let clock = ManualClock()
        let reads = Atomic<Int>(0)
        let transport = ScriptedTransport { request, _ throws(TransportError) in
            switch request.method {
            case "POST" where reads.load(ordering: .relaxed) == 1: throw .connectionLost("reset by peer")
            case "POST":
                return TransportResponse(
                    status: 200, body: Array(#"{"id":"L1","key":"K1","expiresAt":"2028-01-01T00:00:00Z"}"#.utf8))
            default:
                // The first read is before the renewal; the second after its lost answer.
                let read = reads.add(1, ordering: .relaxed).newValue
                let expiry = read > 1 && tookEffect ? "2028-01-01T00:00:00Z" : "2027-01-01T00:00:00Z"
                return TransportResponse(
                    status: 200, body: Array(#"{"id":"L1","key":"K1","expiresAt":"\#(expiry)"}"#.utf8))
            }
        }
        let rig = try Rig(clock: clock, transport: transport, change: .renew)
        #expect(try await rig.changes.settle(rig.item) == nil)
        let methods = transport.requests.map(\.method)
        #expect(methods == (tookEffect ? ["GET", "POST", "GET"] : ["GET", "POST", "GET", "POST"]))
        #expect(
            transport.requests.filter { $0.method == "POST" }.allSatisfy { $0.url.hasSuffix("/v3/licenses/L1/renew") })
        let entry = try #require(try await rig.entry())
        #expect(entry.state == (tookEffect ? .recovered : .created))
        #expect(rig.counters.snapshot.ambiguous == 1)
    }

    /// The one state machine's last round for a change: after the last lost answer the license is
    /// still read (it might have taken effect then), and only a read that says "not applied" makes
    /// the change failed — never a fifth send.
    @Test("a suspension whose every answer is lost is read after each, and failed once attempts run out")
    func everyAnswerLostFailsAfterTheLastRead() async throws {
        let clock = ManualClock()
        let transport = ScriptedTransport { request, _ throws(TransportError) in
            switch request.method {
            case "PATCH": throw .connectionLost("reset by peer")
            default:
                return TransportResponse(status: 200, body: Array(#"{"id":"L1","key":"K1","suspended":false}"#.utf8))
            }
        }
        let rig = try Rig(clock: clock, transport: transport, change: .suspend(true))
        // A change's lost answer is read back at once (a read by id does not lag): nothing waits on the clock.
        #expect(try await rig.changes.settle(rig.item) == nil)
        // A read before the first send, then each of the four sends followed by its read.
        #expect(
            transport.requests.map(\.method) == ["GET"] + Array(repeating: ["PATCH", "GET"], count: 4).flatMap { $0 })
        let entry = try #require(try await rig.entry())
        #expect(entry.state == .failed)
        #expect(entry.error?.contains("each read: not applied") == true)
    }

    @Test(
        "a 409 on a row with its own key is settled by reading the key: ours is recovered, another's is a conflict",
        arguments: [true, false])
    func duplicateKeyIsLookedUpNotResent(ours: Bool) async throws {
        let clock = ManualClock()
        let transport = ScriptedTransport { request, _ throws(TransportError) in
            switch request.method {
            case "POST":
                return TransportResponse(status: 409, body: Array(#"{"message":"The key already exists."}"#.utf8))
            default:
                let found = Self.license(id: "L9", key: "KEY-1", marker: ours ? Self.marker : "someone-else")
                return TransportResponse(status: 200, body: Array("[".utf8) + found + Array("]".utf8))
            }
        }
        let rig = try Rig(clock: clock, transport: transport, key: "KEY-1")
        #expect(try await rig.worker.settle(rig.item) == nil)
        #expect(transport.requests.map(\.method) == ["POST", "GET"])
        #expect(transport.requests[1].url.contains("key%5Beq%5D=KEY-1"))
        let entry = try #require(try await rig.entry())
        #expect(entry.state == (ours ? .recovered : .conflict))
    }

    @Test("a 429 pauses the worker for its Retry-After on the clock, then the same request goes once")
    func tooManyRequestsPausesForRetryAfter() async throws {
        let clock = ManualClock()
        let transport = ScriptedTransport { _, index throws(TransportError) in
            index == 0
                ? TransportResponse(
                    status: 429, headers: [("Retry-After", "3")], body: Array(#"{"message":"Too many requests."}"#.utf8)
                )
                : TransportResponse(status: 201, body: Self.license(id: "L3", key: "K3", marker: Self.marker))
        }
        let rig = try Rig(clock: clock, transport: transport, rate: 100)
        let settling = Task { try await rig.worker.settle(rig.item) }
        await clock.waitForSleepers(1)
        #expect(transport.count == 1)
        clock.advance(by: .milliseconds(2_900))
        #expect(transport.count == 1)
        #expect(clock.sleeperCount == 1)
        clock.advance(by: .milliseconds(100))
        #expect(try await settling.value == nil)
        #expect(transport.requests.map(\.method) == ["POST", "POST"])
        let entry = try #require(try await rig.entry())
        #expect(entry.state == .created)
        let counts = rig.counters.snapshot
        #expect(counts.tooManyRequests == 1 && counts.created == 1 && counts.failed == 0)
    }

    @Test("a stop during a backoff ends the wait at once: nothing more is sent, the entry stays pending for the rerun")
    func stopDuringBackoff() async throws {
        let clock = ManualClock()
        let transport = ScriptedTransport { _, _ throws(TransportError) in
            TransportResponse(
                status: 503, headers: [("Retry-After", "30")], body: Array(#"{"message":"Down for maintenance."}"#.utf8)
            )
        }
        let rig = try Rig(clock: clock, transport: transport)
        let settling = Task { try await rig.worker.settle(rig.item) }
        // The backoff (30 s at least: Retry-After is a floor) sleeps on the clock, which the test never
        // moves: the settle below can only return because the stop ended the wait.
        await clock.waitForSleepers(1)
        rig.stop.request(.interrupted)
        #expect(try await settling.value == nil)
        #expect(transport.count == 1)
        let entry = try #require(try await rig.entry())
        #expect(entry.state == .pending)
        #expect(entry.httpStatus == 503)
        #expect(rig.counters.snapshot.notSent == 1)
    }
}

import CryptlexAPI
import CryptlexEmulator
import CryptlexModels
import EmulatorTransport
import Foundation
import GRDB
import Ingestion
import Journal
import Logging
import Scheduling
import TestSupport
import Testing

@testable import Provisioning

/// A scratch folder with an order file, a journal and a results file, and a way to run licprov's
/// `run` use case on it against an emulator in the same process (``InProcessTransport``: the
/// engine's logic, with no socket; the real-socket paths are the end-to-end suites' and the client's).
struct RunBench {
    let directory: String
    let emulator: CryptlexEmulator
    /// The clock of the bench's runs and its emulator, driven to each next deadline.
    let clock: ManualClock
    /// The runs' clock: `clock` for their waits, and the emulator's wall clock for their times (as
    /// the simulation's).
    let runClock: RunClock
    var file: String { directory + "/orders.csv" }
    /// The base URL the clients are given (the in-process transport ignores its host).
    let url = "http://emulator.invalid"

    /// A client of the emulator with `token`.
    func client(token: String = "test-token", requestTimeout: Duration = .seconds(30)) throws -> CryptlexClient {
        CryptlexClient(
            baseURL: try CryptlexBaseURL(url), token: token, transport: InProcessTransport(emulator),
            requestTimeout: requestTimeout)
    }

    /// Writes the order file (CSV, header included).
    func write(_ text: String) throws {
        try text.write(toFile: file, atomically: true, encoding: .utf8)
    }

    func configuration(idColumn: String? = nil, _ change: (inout RunConfiguration) -> Void = { _ in })
        -> RunConfiguration
    {
        var configuration = RunConfiguration(inputPath: file, ingest: IngestOptions(idColumn: idColumn))
        configuration.rate = nil
        configuration.concurrency = 4
        configuration.reconcileDelay = .milliseconds(10)
        configuration.retry = RetryPolicy(base: .milliseconds(10), cap: .milliseconds(50), maxAttempts: 6)
        configuration.clock = runClock
        change(&configuration)
        return configuration
    }

    /// Runs to the end with `configuration`, using `token`. The timeouts are the product's: a
    /// loaded machine (every suite at once on two cores) took longer than 5 s for a request, and a
    /// timed-out lookup is sent again, which tests that count requests must not see.
    func run(_ configuration: RunConfiguration, token: String = "test-token", stop: StopSignal = StopSignal())
        async throws -> ProvisioningRun.Report
    {
        let client = try client(token: token)
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        do {
            let report = try await ProvisioningRun(
                configuration: configuration, client: client, stop: stop, logger: logger
            ).execute()
            try await client.shutdown()
            return report
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    /// Registers the file's intents in the journal without sending anything (the token is
    /// refused at the preflight), so that a test can then set entries to the state it needs.
    func registerWithoutSending(_ configuration: RunConfiguration) async throws {
        _ = try await run(configuration, token: "wrong")
    }

    /// The journal a run killed mid-send leaves: the file's intents registered, ORD-1 and ORD-2 in
    /// flight, and ORD-1's request having reached the server (its license made, with its marker).
    /// Returns that license's id.
    func killedWithTwoInFlight(_ configuration: RunConfiguration) async throws -> String {
        try await registerWithoutSending(configuration)
        try journalSQL(
            configuration, "UPDATE license SET state = 'inFlight', attempts = 1 WHERE rowID IN ('ORD-1', 'ORD-2')")
        let marker = try #require(try markers(configuration)["ORD-1"])
        return try await createDirectly(
            #"{"productId":"prod-1","allowedActivations":2,"metadata":[{"key":"licprov_request","value":"\#(marker)"}]}"#
        )
    }

    /// Runs `sql` on the journal behind the run's back, as a crash (or a newer licprov) would leave it.
    func journalSQL(_ configuration: RunConfiguration, _ sql: String) throws {
        try DatabaseQueue(path: configuration.journalPath).write { try $0.execute(sql: sql) }
    }

    /// Rows of a query on the journal.
    func journalRows(_ configuration: RunConfiguration, _ sql: String) throws -> [Row] {
        try DatabaseQueue(path: configuration.journalPath).read { try Row.fetchAll($0, sql: sql) }
    }

    /// Each row id's marker.
    func markers(_ configuration: RunConfiguration) throws -> [String: String] {
        Dictionary(
            uniqueKeysWithValues: try journalRows(configuration, "SELECT rowID, marker FROM license").map {
                ($0["rowID"], $0["marker"])
            })
    }

    func results(_ configuration: RunConfiguration) throws -> String {
        try String(contentsOfFile: configuration.resultsPath, encoding: .utf8)
    }

    /// The results as rows of cells (header dropped; no cell here holds a comma or a newline).
    func resultRows(_ configuration: RunConfiguration) throws -> [[String: String]] {
        let lines = try results(configuration).split(separator: "\r\n").map(String.init)
        let header = lines[0].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        return lines.dropFirst().map { line in
            var cells: [String] = []
            var current = ""
            var quoted = false
            for character in line {
                if character == "\"" {
                    quoted.toggle()
                    continue
                }
                if character == "," && !quoted {
                    cells.append(current)
                    current = ""
                    continue
                }
                current.append(character)
            }
            cells.append(current)
            return Dictionary(uniqueKeysWithValues: zip(header, cells))
        }
    }

    var counters: EmulatorCounters { get async { await emulator.store.snapshot() } }

    /// Every license the emulator holds, as (id, key, marker value).
    func licenses(markerKey: String = RunConfiguration.defaultMarkerKey) async -> [(
        id: String, key: String, marker: String?
    )] {
        await emulator.store.allLicenses().map { license in
            guard case .object(let fields) = license else { return ("", "", nil) }
            var marker: String?
            if case .array(let entries)? = fields["metadata"] {
                for case .object(let entry) in entries where entry["key"] == .string(markerKey) {
                    if case .string(let value)? = entry["value"] { marker = value }
                }
            }
            guard case .string(let id)? = fields["id"], case .string(let key)? = fields["key"] else {
                return ("", "", marker)
            }
            return (id, key, marker)
        }
    }

    /// Creates a license directly in the emulator, as another tool (or an earlier lost send) would.
    func createDirectly(_ body: String) async throws -> String {
        try await client().createLicense(body: Array(body.utf8)).value.id
    }

    /// Creates the license a journal entry's operation asks for (`license.operation`, read by SQL), directly.
    func createDirectly(operation bytes: Data) async throws -> String {
        let operation = try LicenseOperation(journalBytes: [UInt8](bytes))
        return try await createDirectly(String(decoding: operation.wireBody(), as: UTF8.self))
    }
}

/// Runs `body` with a fresh emulator (in process) and a fresh scratch folder.
///
/// The runs' waits (backoff, `Retry-After`, the reconcile delay, lookups' gathering) and the
/// emulator's time (`createdAt`, its search's lag, its rate limit) are on one manual clock, which a
/// ``ClockDriver`` moves to each next deadline: no wait takes real time, and every comparison of two
/// waits is exact whatever the machine's load. The runs' wall clock (their journal's times, the
/// server's rate-limit windows read against it) is the emulator's too.
func withRunBench<T: Sendable>(
    _ configuration: EmulatorConfiguration = EmulatorConfiguration(
        token: "test-token", products: ["prod-1"], rateLimit: nil),
    _ body: @Sendable (RunBench) async throws -> T
) async throws -> T {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("licprov-run-\(UUID().uuidString)")
        .path
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let driver = ClockDriver()
    let origin = Date()
    do {
        let result = try await body(
            RunBench(
                directory: directory,
                emulator: try CryptlexEmulator(
                    configuration: configuration, clock: .following(driver.clock, from: origin)),
                clock: driver.clock, runClock: RunClock(driver.clock, wallOrigin: origin)))
        await driver.stop()
        return result
    } catch {
        await driver.stop()
        throw error
    }
}

/// `count` simple rows for product prod-1, with order ids ORD-1…
func orders(_ count: Int, from first: Int = 1, activations: Int = 2) -> String {
    (first..<first + count).map { "ORD-\($0),prod-1,\(activations)\n" }.joined()
}

let ordersHeader = "order_id,productId,allowedActivations\n"

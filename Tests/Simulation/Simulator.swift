import CryptlexAPI
import CryptlexEmulator
import Foundation
import Ingestion
import Logging
import Provisioning
import Scheduling

/// Runs one schedule through the real engine — planner, journal on a SQLite file, workers,
/// retries, lookups, customers — against the emulator in process, killing and restarting the
/// process where the schedule says, then checks what the account and the results hold.
package struct Simulator {
    /// What one schedule ended with.
    package struct Outcome: Sendable {
        package var seed: UInt64
        package var violations: [String]
        package var trace: [String]
        package var digest: String
        /// Faults the emulator injected, by name, and the kills that happened.
        package var faults: [String: Int]
        package var kills: (before: Int, after: Int)
        package var processes: Int
        package var concurrency: Int
    }

    /// Where the schedules' scratch folders go (tmpfs when there is one: a journal's fsyncs are the
    /// product's, not what a simulation measures).
    package var scratchRoot: String

    package init(scratchRoot: String? = nil) {
        self.scratchRoot =
            scratchRoot
            ?? (FileManager.default.isWritableFile(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory())
    }

    static let token = "sim-token"
    static let processLimit = 12

    package func run(_ schedule: Schedule) async -> Outcome {
        let directory = scratchRoot + "/licprov-sim-\(schedule.seed)-\(UUID().uuidString.prefix(8))"
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let trace = Trace()
        var violations: [String] = []
        var kills = (before: 0, after: 0)
        let emulator: CryptlexEmulator
        do {
            emulator = try CryptlexEmulator(
                configuration: EmulatorConfiguration(
                    token: Self.token, products: ["prod-1"], rateLimit: nil, faults: schedule.faults,
                    seed: schedule.seed))
            try schedule.csv.write(toFile: directory + "/orders.csv", atomically: true, encoding: .utf8)
        } catch {
            return Outcome(
                seed: schedule.seed, violations: ["set-up failed: \(error)"], trace: [], digest: "", faults: [:],
                kills: kills, processes: 0, concurrency: schedule.concurrency)
        }
        let server = InProcessEmulator(emulator)
        var journal = directory + "/journal-0.sqlite"
        var process = 0
        var clean: Ending?
        var rerun: Ending?
        // Killed processes first, then processes that run to their end with the faults on until one
        // settles every row, then one with the faults off, then one that must send nothing.
        var phase = Phase.faulty
        while process < Self.processLimit + 2 {
            let crash = process < schedule.crashes.count ? schedule.crashes[process] : nil
            if phase == .clean || phase == .rerun { await emulator.faults.replace(with: FaultSettings()) }
            trace.record("process \(process) (\(phase), \(schedule.concurrency) workers)")
            let next = directory + "/journal-\(process + 1).sqlite"
            let results = directory + "/results-\(process).csv"
            let stop = StopSignal()
            let transport = SimulatedProcess(
                process: process, server: server, crash: crash, journalPath: journal, nextJournalPath: next,
                trace: trace, onKill: { _ = stop.request(.interrupted) })
            var configuration = RunConfiguration(
                inputPath: directory + "/orders.csv", ingest: IngestOptions(idColumn: "order_id"),
                journalPath: journal, resultsPath: results)
            configuration.rate = nil
            configuration.concurrency = schedule.concurrency
            configuration.reconcileDelay = .milliseconds(20)
            configuration.retry = RetryPolicy(base: .milliseconds(1), cap: .milliseconds(4), maxAttempts: 6)
            configuration.unreachableTimeout = .seconds(60)
            var report: ProvisioningRun.Report?
            do {
                let client = CryptlexClient(
                    baseURL: try CryptlexBaseURL("http://emulator.invalid"), token: Self.token, transport: transport,
                    requestTimeout: .seconds(30))
                var logger = Logger(label: "simulation")
                logger.logLevel = .critical
                report = try await ProvisioningRun(
                    configuration: configuration, client: client, stop: stop, logger: logger
                ).execute()
            } catch {
                if !transport.wasKilled { trace.record("process \(process) failed: \(error)") }
            }
            if let report, !transport.wasKilled {
                let counts = report.counts
                trace.record(
                    "process \(process) ended \(report.ending): created \(counts.created), recovered \(counts.recovered), "
                        + "already done \(counts.alreadyDone), failed \(counts.failed), not sent \(counts.notSent)")
            }
            process += 1
            if transport.wasKilled {
                if trace.all.last?.hasSuffix("after the server") == true { kills.after += 1 } else { kills.before += 1 }
                journal = next
                continue
            }
            let ending = Ending(report: report, writes: transport.writes, results: results)
            switch phase {
            case .faulty:
                if let report, report.ending == .finished, report.counts.failed + report.counts.notSent == 0,
                    process >= schedule.crashes.count
                {
                    phase = .clean
                } else if process >= Self.processLimit {
                    phase = .clean
                }
            case .clean:
                clean = ending
                phase = .rerun
            case .rerun:
                rerun = ending
                phase = .done
            case .done: break
            }
            if phase == .done { break }
        }
        violations += await Self.check(schedule, emulator: emulator, clean: clean, rerun: rerun)
        let counters = await emulator.store.snapshot()
        return Outcome(
            seed: schedule.seed, violations: violations, trace: trace.all, digest: trace.digest,
            faults: counters.faults, kills: kills, processes: process, concurrency: schedule.concurrency)
    }

    /// How a process that was not killed ended.
    struct Ending {
        var report: ProvisioningRun.Report?
        var writes: Int
        var results: String
    }

    enum Phase: CustomStringConvertible {
        case faulty, clean, rerun, done
        var description: String {
            switch self {
            case .faulty: "faults on"
            case .clean: "faults off"
            case .rerun: "rerun"
            case .done: "done"
            }
        }
    }
}

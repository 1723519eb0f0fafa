import CryptlexAPI
import CryptlexEmulator
import EmulatorTransport
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
        /// The schedule's change rows, and its distinct customers.
        package var changes = 0
        package var customers = 0
        package var refusesIn = false
        /// Whether rows named organizations or resellers, and whether the orders were undone.
        package var directories = false
        package var undo = false
        package var tokenRevoked = false
        package var lateRows = false
        /// Another client created a customer between licprov's lookup and its create (a 409).
        package var customerRaced = false
        /// The order file's rows edited or removed between processes.
        package var fileEdited = false
        /// Another client edited licenses before the changes ran.
        package var editedByHand = false
        package var duplicate = false
        package var deletedByHand = false
        package var applied = false
    }

    /// Where the schedules' scratch folders go (tmpfs when there is one: a journal's fsyncs are the
    /// product's, not what a simulation measures).
    package var scratchRoot: String

    package init(scratchRoot: String? = nil, processDeadline: Duration = .seconds(30)) {
        self.processDeadline = processDeadline
        self.scratchRoot =
            scratchRoot
            ?? (FileManager.default.isWritableFile(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory())
    }

    static let token = "sim-token"
    /// Real time a process may take before it counts as hung: every wait of a schedule is
    /// milliseconds, so alone on the machine (scripts/simulate.sh) a process takes well under a
    /// second; the test suite, whose other suites load both cores, gives more.
    package var processDeadline: Duration

    /// `task`'s result, or nil when `limit` of real time passes first (the task is left running).
    static func result<T: Sendable>(of task: Task<T, any Error>, within limit: Duration) async -> Result<T, any Error>?
    {
        let first = First<Result<T, any Error>?>()
        // (On the global executor and real time: the watchdog of a schedule whose time stands still.)
        let watchdog = Task.detached {
            try? await Task.sleep(for: limit)
            first.settle(nil)
        }
        defer { watchdog.cancel() }
        return await withCheckedContinuation { continuation in
            first.wait(continuation)
            Task.inheriting { first.settle(await task.result) }
        }
    }
    static let processLimit = 12

    /// Runs `schedule` on a thread of its own (``SimulationExecutor``): the same seed, the same trace.
    package func run(_ schedule: Schedule) async -> Outcome {
        let time = SimulationTime(seed: schedule.seed)
        defer { time.executor.stop() }
        return await withTaskExecutorPreference(time.executor) { await run(schedule, time: time) }
    }

    private func run(_ schedule: Schedule, time: SimulationTime) async -> Outcome {
        let directory = scratchRoot + "/licprov-sim-\(schedule.seed)-\(UUID().uuidString.prefix(8))"
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let trace = Trace()
        let emulator: CryptlexEmulator
        do {
            emulator = try CryptlexEmulator(
                configuration: EmulatorConfiguration(
                    token: Self.token, products: ["prod-1"], rateLimit: nil,
                    refusedOperators: schedule.refusedOperators, faults: schedule.faults, seed: schedule.seed),
                clock: time.emulatorClock)
            try schedule.earlyCSV.write(toFile: directory + "/orders.csv", atomically: true, encoding: .utf8)
            try schedule.changesCSV.write(toFile: directory + "/changes.csv", atomically: true, encoding: .utf8)
        } catch {
            return Outcome(
                seed: schedule.seed, violations: ["set-up failed: \(error)"], trace: [], digest: "", faults: [:],
                kills: (0, 0), processes: 0, concurrency: schedule.concurrency)
        }
        if schedule.editFrom > 0 {
            trace.record(
                "the order file is edited before process \(schedule.editFrom) of the orders: "
                    + "\(schedule.edited.sorted()) to interval P1Y, \(schedule.removed.sorted()) removed")
        }
        let another = AnotherClient(emulator: emulator, raceEmail: schedule.raceEmail)
        let slow = SlowNetwork(seed: schedule.seed, probability: schedule.slowAnswers)
        var processes = Processes(
            directory: directory, server: InProcessEmulator(emulator), trace: trace, another: another, slow: slow,
            clock: time.runClock, random: time.random, time: time, concurrency: schedule.concurrency,
            deadline: processDeadline)
        var violations: [String] = []
        let creates = await processes.settle(
            "orders", crashes: schedule.crashes, faults: schedule.faults, revocation: schedule.revocation,
            edits: schedule.fileVersions, violations: &violations
        ) { _ in }
        violations += await Self.check(schedule, emulator: emulator, clean: creates.clean, rerun: creates.rerun)
        if violations.isEmpty { violations += await processes.audit("orders", journal: creates.journal) }
        if schedule.duplicate, violations.isEmpty {
            violations += await processes.duplicateAndFix(
                journal: creates.journal, crashes: schedule.fixCrashes, faults: schedule.faults,
                violations: &violations)
            if violations.isEmpty {
                violations += await Self.check(
                    schedule, emulator: emulator, clean: creates.clean, rerun: creates.rerun)
            }
        }
        if !schedule.changes.isEmpty, violations.isEmpty {
            await Self.editByHand(schedule, emulator: emulator, trace: trace)
            let before = await emulator.store.changesByLicense()
            let changes = await processes.settle(
                "changes", crashes: schedule.changeCrashes, faults: schedule.faults, violations: &violations
            ) {
                $0.ingest.idColumn = "event_id"
                $0.ingest.targetMetadata = "order_id"
            }
            violations += await Self.checkChanges(
                schedule, emulator: emulator, before: before, clean: changes.clean, rerun: changes.rerun)
            if violations.isEmpty { violations += await processes.audit("changes", journal: changes.journal) }
        }
        if schedule.deleteByHand, !schedule.undo, violations.isEmpty {
            let conflicts = await Self.madeBeforeTheEdit(schedule, emulator: emulator)
            violations += await processes.deletedByHand(
                journal: creates.journal, conflicts: conflicts, violations: &violations)
        }
        if schedule.export != nil, violations.isEmpty {
            violations += await processes.apply(schedule, crashes: schedule.applyCrashes, violations: &violations)
        }
        if schedule.undo, violations.isEmpty {
            violations += await processes.undo(
                "orders", journal: creates.journal, crashes: schedule.undoCrashes, faults: schedule.faults,
                violations: &violations)
        }
        let counters = await emulator.store.snapshot()
        return Outcome(
            seed: schedule.seed, violations: violations, trace: trace.all, digest: trace.digest,
            // (A 409 is no injected fault: the server's answer to a create of what exists.)
            faults: counters.faults.merging(["409": counters.conflicts, "late-answer": slow.lateAnswers]) { $1 },
            kills: processes.kills,
            processes: processes.count,
            concurrency: schedule.concurrency, changes: schedule.changes.count,
            customers: Set(schedule.rows.compactMap(\.email)).count,
            refusesIn: schedule.refusedOperators.contains("in"),
            directories: schedule.rows.contains { $0.organization != nil || $0.reseller != nil }, undo: schedule.undo,
            tokenRevoked: processes.tokenRevocations > 0, lateRows: schedule.lateRows > 0,
            customerRaced: another.didRace, fileEdited: schedule.editFrom > 0,
            editedByHand: !schedule.handEdits.isEmpty,
            duplicate: schedule.duplicate, deletedByHand: schedule.deleteByHand && !schedule.undo,
            applied: schedule.export != nil)
    }

    /// A simulated process's waits, on the schedule's clock (``SimulationTime``: they take no real
    /// time): the product's own reconcile delay, retry policy and silence budget, and a rate limit
    /// too high to wait on (but there, so a 429's `Retry-After` pauses every worker, as in a real
    /// run). For a run's sends, an apply's planning reads, an audit's lookups.
    static func useSimulationWaits(_ configuration: inout RunConfiguration, clock: RunClock, random: RunRandom) {
        configuration.clock = clock
        configuration.random = random
        configuration.rate = 1_000_000
        configuration.windowLimit = nil
    }

    /// The processes of one schedule, one after another, as an operator (or a timer) would start them.
    struct Processes {
        /// A run of `input` (`input.csv`) on `journal`: no rate limit, waits of milliseconds.
        func configuration(_ input: String, journal: String, results: String) -> RunConfiguration {
            var configuration = RunConfiguration(
                inputPath: directory + "/\(input).csv", ingest: IngestOptions(idColumn: "order_id"),
                journalPath: journal, resultsPath: results)
            configuration.concurrency = concurrency
            Simulator.useSimulationWaits(&configuration, clock: clock, random: random)
            return configuration
        }

        let directory: String
        let server: InProcessEmulator
        let trace: Trace
        var another: AnotherClient? = nil
        var slow: SlowNetwork? = nil
        /// The schedule's time (``SimulationTime``), for every process.
        var clock = RunClock.continuous
        /// The schedule's chance for every process's jitter (drawn from its seed).
        var random = RunRandom.system
        /// Moves the schedule's time between processes (nil: time passes by itself).
        var time: SimulationTime? = nil
        let concurrency: Int
        let deadline: Duration
        var count = 0
        var kills = (before: 0, after: 0)
        /// Processes whose token the server refused.
        var tokenRevocations = 0

        /// Runs `input`'s command until it is settled: the processes `crashes` kill, then processes
        /// that run to their end with `faults` on until one settles every row, then one with the
        /// faults off, then one that must send nothing. Each process on the journal the last left,
        /// the first on `start` (a journal an earlier `settle` left) or a new one.
        mutating func settle(
            _ input: String, crashes: [Schedule.Crash], faults: FaultSettings, slowAnswers: Bool = true,
            revocation: Schedule.Revocation? = nil, edits: [Int: String] = [:], journal start: String? = nil,
            plan: Simulator.Planner? = nil, violations: inout [String], configure: (inout RunConfiguration) -> Void
        ) async -> (clean: Ending?, rerun: Ending?, journal: String) {
            var edits = edits
            await server.emulator.faults.replace(with: faults)
            var journal = start ?? directory + "/\(input)-0.sqlite"
            var clean: Ending?
            var phase = Phase.faulty
            var started = 0
            while started < Simulator.processLimit + 2 {
                let crash = started < crashes.count ? crashes[started] : nil
                if phase == .clean { await server.emulator.faults.replace(with: FaultSettings()) }
                slow?.turn(on: phase == .faulty && slowAnswers)
                let process = count
                // The file as the next export has it (written whole, as a tool that replaces it): at
                // its process, or at the run with the faults off if the schedule settled sooner.
                for (at, edited) in edits.sorted(by: { $0.key < $1.key })
                where at <= started || phase == .clean {
                    try? edited.write(toFile: directory + "/\(input).csv", atomically: true, encoding: .utf8)
                    trace.record("\(input).csv edited")
                    edits[at] = nil
                }
                time?.passBefore(process: process, startingCommand: started == 0)
                trace.record("process \(process) \(input) (\(phase), \(concurrency) workers)")
                let next = directory + "/\(input)-after-\(process).sqlite"
                let results = directory + "/\(input)-results-\(started).csv"
                let stop = StopSignal()
                let writers = JournalWriters()
                let transport = SimulatedProcess(
                    process: process, server: server, crash: crash, journalPath: journal, nextJournalPath: next,
                    trace: trace, writers: writers, another: another, slow: slow, clock: clock,
                    revokeTokenAt: revocation.flatMap {
                        $0.process == started && phase == .faulty ? $0.atRequest : nil
                    },
                    onKill: { _ = stop.request(.interrupted) })
                var configuration = self.configuration(input, journal: journal, results: results)
                configuration.journalWriters = writers
                configure(&configuration)
                count += 1
                started += 1
                let report: ProvisioningRun.Report?
                switch await Simulator.runProcess(
                    configuration, transport: transport, stop: stop, deadline: deadline, plan: plan)
                {
                case .ended(let made):
                    report = made
                case .failed(let error):
                    report = nil
                    if !transport.wasKilled { trace.record("process \(process) failed: \(error)") }
                case .hung:
                    violations.append("process \(process) did not end within \(deadline) (a hang)")
                    trace.record("process \(process) HUNG")
                    return (clean, nil, journal)
                }
                if transport.wasKilled {
                    if crash?.afterProcessing == true { kills.after += 1 } else { kills.before += 1 }
                    journal = next
                    continue
                }
                if let report {
                    let counts = report.counts
                    trace.record(
                        "process \(process) ended \(report.ending): created \(counts.created), changed \(counts.changed), "
                            + "recovered \(counts.recovered), already done \(counts.alreadyDone), failed \(counts.failed), "
                            + "not sent \(counts.notSent)")
                }
                let rejection = transport.tokenRejected
                if rejection.0 {
                    tokenRevocations += 1
                    trace.record("process \(process): token refused; \(rejection.sentAfter) requests started after")
                    // A rejected token stops the run at once: what was in flight, and nothing new.
                    guard case .stopped(.accessDenied)? = report?.ending else {
                        violations.append(
                            "process \(process): its token was refused; it ended \(report.map { "\($0.ending)" } ?? "without a report")"
                        )
                        continue
                    }
                    if rejection.sentAfter > concurrency {
                        violations.append(
                            "process \(process) sent \(rejection.sentAfter) requests after its token was refused "
                                + "(\(concurrency) workers)")
                    }
                }
                // A `Retry-After` is a floor: the request a 429 or 503 answered does not come again sooner.
                if transport.early > 0 {
                    violations.append(
                        "process \(process) sent \(transport.early) requests again before the Retry-After of the "
                            + "429 or 503 that answered them had passed")
                }
                let ending = Ending(report: report, writes: transport.writes, results: results)
                switch phase {
                case .faulty:
                    if let report, report.ending == .finished, report.counts.failed + report.counts.notSent == 0,
                        started >= crashes.count
                    {
                        phase = .clean
                    } else if started >= Simulator.processLimit {
                        phase = .clean
                    }
                case .clean:
                    clean = ending
                    phase = .rerun
                case .rerun:
                    return (clean, ending, journal)
                }
            }
            return (clean, nil, journal)
        }
    }

    enum ProcessEnd {
        case ended(ProvisioningRun.Report)
        case failed(any Error)
        case hung
    }

    /// One process: the engine's run with its own client over `transport`, given
    /// `deadline` to end (a hung one is stopped and abandoned).
    /// A process that plans its rows against the account before running them (`licprov apply`).
    /// (The process's stop signal: a kill stops its planning as it stops its sends.)
    typealias Planner = @Sendable (CryptlexClient, RunConfiguration, StopSignal) async throws -> [OrderRow]

    static func runProcess(
        _ configuration: RunConfiguration, transport: SimulatedProcess, stop: StopSignal, deadline: Duration,
        plan: Planner? = nil
    ) async -> ProcessEnd {
        let client: CryptlexClient
        do {
            client = CryptlexClient(
                baseURL: try CryptlexBaseURL("http://emulator.invalid"), token: Self.token, transport: transport,
                requestTimeout: .seconds(30))
        } catch {
            return .failed(error)
        }
        var logger = Logger(label: "simulation")
        logger.logLevel = .critical
        let engine = Task.inheriting { [logger] in
            var configuration = configuration
            if let plan { configuration.derivedRows = DerivedRows(try await plan(client, configuration, stop)) }
            return try await ProvisioningRun(configuration: configuration, client: client, stop: stop, logger: logger)
                .execute()
        }
        switch await Self.result(of: engine, within: deadline) {
        case .success(let report)?: return .ended(report)
        case .failure(let error)?: return .failed(error)
        case nil:
            _ = stop.request(.interrupted)
            engine.cancel()
            return .hung
        }
    }

    /// How a process that was not killed ended.
    struct Ending {
        var report: ProvisioningRun.Report?
        var writes: Int
        var results: String
    }

    enum Phase: CustomStringConvertible {
        case faulty, clean, rerun
        var description: String {
            switch self {
            case .faulty: "faults on"
            case .clean: "faults off"
            case .rerun: "rerun"
            }
        }
    }
}

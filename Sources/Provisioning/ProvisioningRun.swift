import APIRequests
import CryptlexAPI
import CryptlexModels
import FileFormats
import Foundation
import Ingestion
import Journal
import Logging
import Results
import Scheduling
import Synchronization

/// The `run` use case: plan the file against the journal, settle every license that needs it under
/// the rate limit, and write the results file.
package struct ProvisioningRun: Sendable {
    package let configuration: RunConfiguration
    package let client: CryptlexClient
    package let stop: StopSignal
    package let logger: Logger

    package init(configuration: RunConfiguration, client: CryptlexClient, stop: StopSignal, logger: Logger) {
        self.configuration = configuration
        self.client = client
        self.stop = stop
        self.logger = logger
    }

    /// How a run ended.
    package struct Report: Sendable {
        package enum Ending: Sendable, Equatable {
            /// Every license settled (some may have failed; see the counts).
            case finished
            /// The file has invalid rows and `--skip-invalid` was not given: nothing was sent.
            case refused
            /// The run stopped early; a rerun resumes.
            case stopped(StopSignal.Reason)
            /// `--dry-run`: planned, nothing written or sent.
            case dryRun
        }

        package var ending: Ending
        package var counts: RunCounts
        /// What validation found.
        package var summary: IngestSummary
        /// The row problems (all of them; the caller caps the list).
        package var problems: [Diagnostic]
        /// Licenses the file asks for (valid rows' quantities), and how many needed work this run.
        package var licenses: Int
        package var toSettle: Int
        /// Where the results went (nil when refused).
        package var resultsPath: String?
        package var journalPath: String
        package var elapsed: Duration
        /// The part of it spent settling licenses (after planning, before the results file).
        package var settling: Duration = .zero
        /// Journal transactions for the workers' writes (group commits).
        package var commits: Int
        /// The parts a fresh file was registered in while it was sent (0: registered whole first).
        package var parts = 0
        /// For a dry run: what would be looked up and sent, and the first few bodies.
        /// Licenses not created, grouped by why (the most common first): "HTTP 400: Product … does not exist" → 12.
        package var failureReasons: [(reason: String, count: Int)] = []
        package var plannedLookups = 0
        package var plannedSends = 0
        package var sampleBodies: [String] = []

        /// How the run ended, in a few words: the journal's outcome of the run, and the summary's.
        package var outcome: String {
            switch ending {
            case .finished: hasUnsettledRows ? "finished with failures" : "finished"
            case .stopped(.interrupted): "interrupted"
            case .stopped(.accessDenied): "token rejected"
            case .stopped(.tooManyFailures): "too many failures"
            case .stopped(.firstItemRejected): "first license rejected"
            case .stopped(.rateLimited): "rate-limited"
            case .stopped(.unreachable): "API unreachable"
            case .refused: "refused"
            case .dryRun: "dry run"
            }
        }

        /// A run that had nothing to do (an apply whose plan is empty): finished, every count zero,
        /// so its summary and metrics say "nothing tonight" like any run's.
        package static func nothingToDo(journalPath: String, elapsed: Duration) -> Report {
            Report(
                ending: .finished, counts: RunCounts(), summary: IngestSummary(), problems: [], licenses: 0,
                toSettle: 0,
                resultsPath: nil, journalPath: journalPath, elapsed: elapsed, commits: 0)
        }

        /// True when some license is not created: failed, rejected, conflict, unresolved or not sent.
        package var hasUnsettledRows: Bool {
            counts.failed + counts.rejected + counts.conflicts + counts.unresolved + counts.notSent > 0
        }
    }

    /// Runs to the end, or until `stop` is requested. Throws ``JournalError``, ``IngestionError``
    /// and ``ResultsFile/WriteError``; everything about single rows is in the report.
    ///
    /// `progress` is called every `progressInterval` while licenses are being settled, and once
    /// more at the end with `final` true.
    ///
    /// The steps, in order: check the input → take the journal's lock → **plan** the file against
    /// the journal (``RunPlanner``) → begin a run → **preflight** the API → **prepare** the workers
    /// (customers, entries that may exist and change targets looked up together) → **settle** every
    /// item (``settle(_:with:feed:counters:progress:interval:)``) → **finish**: the results file,
    /// the run's outcome in the journal, the report.
    package func execute(
        progress: (@Sendable (_ counts: RunCounts, _ total: Int, _ final: Bool) -> Void)? = nil,
        progressInterval: Duration = .seconds(2)
    ) async throws -> Report {
        let started = ContinuousClock.now
        try checkInput()
        if configuration.dryRun { return try await dryRun(started: started) }
        let lock = try JournalLock(journalPath: configuration.journalPath)
        defer { withExtendedLifetime(lock) {} }
        let journal = try SQLiteJournal(
            path: configuration.journalPath, wallClock: { [clock = configuration.clock] in clock.wallNow })
        // The key the journal's licenses carry, or this run's for a new journal: never two.
        let run = try withMarkerKey(of: journal)
        try journal.recordMarkerKey(run.configuration.markerKey)
        return try await run.execute(
            journal: journal, started: started, progress: progress, progressInterval: progressInterval)
    }

    /// This run with the marker key it uses with `journal`: what ``RunConfiguration/markerKeyChoice``
    /// asks for (nil: ``RunConfiguration/markerKey``, which must agree), resolved against what the
    /// journal records; a choice that disagrees is a ``MarkerKeyConflict``.
    func withMarkerKey(of journal: SQLiteJournal) throws -> ProvisioningRun {
        let recorded = try journal.markerKey()
        let choice = configuration.markerKeyChoice ?? MarkerKeyChoice(configuration.markerKey)
        try MarkerKeyConflict.check(choice, recorded: recorded, journalPath: configuration.journalPath)
        var resolved = configuration
        switch choice {
        case .unspecified: resolved.markerKey = recorded.resolved(configuration.markerKey)
        case .key(let key): resolved.markerKey = key
        case .none: resolved.markerKey = nil
        }
        resolved.markerKeyChoice = nil
        return ProvisioningRun(configuration: resolved, client: client, stop: stop, logger: logger)
    }

    /// ``execute(progress:progressInterval:)`` with the journal open and locked, the marker key resolved.
    private func execute(
        journal: SQLiteJournal, started: ContinuousClock.Instant,
        progress: (@Sendable (_ counts: RunCounts, _ total: Int, _ final: Bool) -> Void)?,
        progressInterval: Duration
    ) async throws -> Report {
        if try registersWhileSending(journal),
            let report = try await executeInTranches(
                journal: journal, started: started, progress: progress, progressInterval: progressInterval)
        {
            return report
        }
        guard let plan = try await plan(against: journal) else { return interruptedWhilePlanning(started: started) }
        if plan.refused {
            return Report(
                ending: .refused, counts: RunCounts(), summary: plan.summary,
                problems: plan.summary.fileDiagnostics + plan.problems,
                licenses: plan.summary.licenses, toSettle: 0, resultsPath: nil, journalPath: configuration.journalPath,
                elapsed: ContinuousClock.now - started, commits: 0)
        }
        let work = plan.lookups + plan.sends
        let (runID, counters, requests) = try await begin(
            journal, hasWork: !work.isEmpty, alreadyDone: plan.alreadyDone)
        let committer = JournalCommitter(journal: journal, run: runID, inPlace: PreferredExecutor.isSet)
        let worker = try await prepareWorker(plan: plan, journal: journal, requests: requests, committer: committer)
        let feed = WorkFeed(journal: journal, run: runID, work: work, chunk: 2 * configuration.concurrency)
        configuration.journalWriters?.watch(committer, feed)
        let settlingStarted = ContinuousClock.now
        try await settle(
            work.count, with: worker, feed: feed, counters: counters, progress: progress, interval: progressInterval)
        let settling = ContinuousClock.now - settlingStarted
        let final = try await settled(
            work.count, feed: feed, committer: committer, counters: counters, progress: progress)
        return try await finish(
            plan: plan, journal: journal, runID: runID, counts: final, toSettle: work.count,
            started: started, settling: settling, commits: committer.commitCount)
    }

    /// Begins the run in the journal and, when there is work, proves the token (one preflight
    /// request); the run's id, its counters and its requests.
    func begin(_ journal: SQLiteJournal, hasWork: Bool, alreadyDone: Int = 0) async throws -> (
        runID: Int64, counters: RunCounters, requests: RunRequests
    ) {
        let runID = try journal.beginRun(command: configuration.commandLine, version: RunConfiguration.version)
        let counters = RunCounters()
        counters.update { $0.alreadyDone = alreadyDone }
        let requests = RunRequests.make(configuration, stop: stop, counters: counters, logger: logger)
        if hasWork {
            do {
                try await preflight(requests)
            } catch {
                try? journal.endRun(runID, outcome: "API unreachable")
                throw error
            }
        }
        return (runID, counters, requests)
    }

    /// After settling: entries marked in flight but never handed out are put back, every write
    /// committed; the counts, with the work not accounted for as not sent.
    func settled(
        _ total: Int, feed: WorkFeed, committer: JournalCommitter, counters: RunCounters,
        progress: (@Sendable (_ counts: RunCounts, _ total: Int, _ final: Bool) -> Void)?
    ) async throws -> RunCounts {
        try await committer.unmark(await feed.untaken())
        try await committer.flush()
        var final = counters.snapshot
        let accounted = final.finished + final.notSent
        if accounted < total { final.notSent += total - accounted }
        if total > 0 { progress?(final, total, true) }
        return final
    }

    /// An input that cannot be opened is refused before anything else (it must not leave a new
    /// journal behind it).
    private func checkInput() throws {
        let input = configuration.inputPath
        if configuration.derivedRows == nil, input != "-", !FileManager.default.isReadableFile(atPath: input) {
            throw IngestionError.cannotOpen(
                file: input,
                reason: FileManager.default.fileExists(atPath: input) ? "permission denied" : "no such file")
        }
    }

    /// Reads the file against the journal and registers what is new (``RunPlanner``); nil when a
    /// stop came meanwhile (then nothing was registered).
    private func plan(against journal: SQLiteJournal) async throws -> RunPlan? {
        logger.info("planning: reading the file against the journal", metadata: ["file": "\(configuration.inputPath)"])
        let plan: RunPlan
        do {
            // Off the cooperative pool: reading a large file and registering it takes seconds of
            // blocking I/O, and a Ctrl-C meanwhile must be noticed (within a few hundred rows).
            let planner = RunPlanner(configuration: configuration, journal: journal, stop: stop)
            plan = try await OwnThread.run("planning") { try planner.plan() }
        } catch let interrupted as RunPlanner.Interrupted {
            logger.notice("interrupted while planning, after \(interrupted.rows) rows: nothing was registered or sent")
            return nil
        }
        logger.info(
            "planned",
            metadata: [
                "licenses": "\(plan.summary.licenses)", "alreadyDone": "\(plan.alreadyDone)",
                "toLookUp": "\(plan.lookups.count)",
                "toSend": "\(plan.sends.count)", "invalidRows": "\(plan.invalidRows)", "skippedRows": "\(plan.skipped)",
                "edited": "\(plan.edited)",
            ])
        if plan.gone > 0 {
            logger.notice(
                "\(plan.gone) licenses of rows no longer in the file may have been created or changed by an earlier run (killed, or an answer lost): each is looked up, and none is sent"
            )
        }
        return plan
    }
}

import CryptlexAPI
import CryptlexModels
import Foundation
import Ingestion
import Journal
import Logging
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
        /// For a dry run: what would be looked up and sent, and the first few bodies.
        /// Licenses not created, grouped by why (the most common first): "HTTP 400: Product … does not exist" → 12.
        package var failureReasons: [(reason: String, count: Int)] = []
        package var plannedLookups = 0
        package var plannedSends = 0
        package var sampleBodies: [String] = []

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
    package func execute(progress: (@Sendable (_ counts: RunCounts, _ total: Int, _ final: Bool) -> Void)? = nil,
                        progressInterval: Duration = .seconds(2)) async throws -> Report {
        let started = ContinuousClock.now
        // An input that cannot be opened must not leave a new journal behind it.
        let input = configuration.inputPath
        if input != "-" && !FileManager.default.isReadableFile(atPath: input) {
            throw IngestionError.cannotOpen(file: input, reason: FileManager.default.fileExists(atPath: input) ? "permission denied" : "no such file")
        }
        if configuration.dryRun { return try await dryRun(started: started) }
        let lock = try JournalLock(journalPath: configuration.journalPath)
        defer { withExtendedLifetime(lock) {} }
        let journal = try SQLiteJournal(path: configuration.journalPath)
        logger.info("planning: reading the file against the journal", metadata: ["file": "\(configuration.inputPath)"])
        let plan: RunPlan
        do {
            // Off the cooperative pool: reading a large file and registering it takes seconds of
            // blocking I/O, and a Ctrl-C meanwhile must be noticed (within a few hundred rows).
            let planner = RunPlanner(configuration: configuration, journal: journal, stop: stop)
            plan = try await OwnThread.run("planning") { try planner.plan() }
        } catch is RunPlanner.Interrupted {
            logger.notice("interrupted while planning: nothing was registered or sent")
            return interruptedWhilePlanning(started: started)
        }
        let licenses = plan.summary.licenses
        if plan.refused {
            return Report(ending: .refused, counts: RunCounts(), summary: plan.summary, problems: plan.summary.fileDiagnostics + plan.problems,
                          licenses: licenses, toSettle: 0, resultsPath: nil, journalPath: configuration.journalPath,
                          elapsed: ContinuousClock.now - started, commits: 0)
        }
        let runID = try journal.beginRun(command: configuration.commandLine, version: RunConfiguration.version)
        let work = plan.lookups + plan.sends
        var counts = RunCounts()
        counts.alreadyDone = plan.alreadyDone
        logger.info("planned", metadata: [
            "licenses": "\(licenses)", "alreadyDone": "\(plan.alreadyDone)", "toLookUp": "\(plan.lookups.count)", "toSend": "\(plan.sends.count)",
            "invalidRows": "\(plan.rejectedLines.count)", "edited": "\(plan.edited)",
        ])
        let counters = RunCounters()
        counters.update { $0 = counts }
        let requests = RunRequests.make(configuration, stop: stop, counters: counters, logger: logger)
        if !work.isEmpty {
            do {
                try await preflight(requests)
            } catch {
                try? journal.endRun(runID, outcome: "API unreachable")
                throw error
            }
        }

        let committer = JournalCommitter(journal: journal, run: runID)
        let customers = CustomerResolver(journal: journal, client: client, requests: requests, createUsers: configuration.createUsers,
                                         reconcileDelay: configuration.reconcileDelay, logger: logger)
        var prepared = LicenseWorker(client: client, customers: customers, requests: requests, committer: committer,
                                   markerKey: configuration.markerKey, reconcileDelay: configuration.reconcileDelay,
                                   maxFailures: configuration.maxFailures, logger: logger)
        prepared.markerLookups = configuration.markerKey.map {
            MarkerLookups(requests: requests, client: client, markerKey: $0, gather: min(.seconds(1), configuration.reconcileDelay))
        }
        // Entries that may exist are looked up together, a hundred markers a request, before any
        // send; so are the customers not looked up yet, a hundred emails a request.
        if !stop.isRequested {
            await customers.resolveTogether(try journal.pendingCustomers())
            prepared.prefetched = try await BatchedLookups.prefetch(plan.lookups, journal: journal, requests: requests, client: client,
                                                                  markerKey: configuration.markerKey,
                                                                  reconcileDelay: configuration.reconcileDelay)
        }
        var changes = ChangeWorker(client: client, requests: requests, committer: committer, maxFailures: configuration.maxFailures, logger: logger)
        if !stop.isRequested, !plan.changeEntries.isEmpty {
            changes.resolved = try await ChangeTargets.prefetch(plan.changeEntries, journal: journal, requests: requests, client: client)
        }
        let worker = Worker(creates: prepared, changes: changes)
        let journalFailure = JournalFailureBox()
        let feed = WorkFeed(journal: journal, run: runID, work: work, chunk: 2 * configuration.concurrency)
        let stop = self.stop
        let total = work.count
        let settlingStarted = ContinuousClock.now
        await withTaskGroup(of: Void.self) { group in
            if let progress {
                group.addTask {
                    while !Task.isCancelled {
                        do { try await Task.sleep(for: progressInterval) } catch { return }
                        progress(counters.snapshot, total, false)
                    }
                }
            }
            group.addTask { await feed.run() }
            // The first license goes alone: a product or template that does not exist fails it with
            // a 400, and the run stops after one request instead of thousands.
            do throws(JournalError) {
                if !stop.isRequested, let first = try await feed.take(), let rejection = try await worker.settle(first) {
                    stop.request(.firstItemRejected(rejection))
                }
            } catch {
                journalFailure.set(error)
                stop.request(.interrupted)
            }
            await WorkerPool.run(concurrency: min(configuration.concurrency, max(work.count, 1)), stop: stop, next: {
                do throws(JournalError) {
                    return try await feed.take()
                } catch {
                    journalFailure.set(error)
                    stop.request(.interrupted)
                    return nil
                }
            }, work: { item in
                do throws(JournalError) {
                    try await worker.settle(item)
                } catch {
                    journalFailure.set(error)
                    stop.request(.interrupted)
                }
            })
            await feed.finish()
            group.cancelAll()
        }
        let settling = ContinuousClock.now - settlingStarted
        if let error = journalFailure.error { throw error }
        try await committer.unmark(await feed.untaken())
        try await committer.flush()
        var final = counters.snapshot
        let accounted = final.finished + final.notSent
        if accounted < work.count { final.notSent += work.count - accounted }
        if total > 0 { progress?(final, total, true) }

        // The results: every valid row's entries as the journal has them, and every invalid row
        // (written on a thread of its own: a journal's worth of reads and an fsync).
        let (editedConflicts, reasons) = try await OwnThread.run("results") { [configuration] in
            try Self.writeResults(plan: plan, journal: journal, configuration: configuration)
        }
        final.conflicts += editedConflicts
        let rejected = plan.rejectedLines
        final.rejected += rejected.count
        let ending: Report.Ending = stop.reason.map { .stopped($0) } ?? .finished
        let outcome: String = switch ending {
        case .finished: final.failed + final.rejected + final.conflicts + final.unresolved > 0 ? "finished with failures" : "finished"
        case .stopped(.interrupted): "interrupted"
        case .stopped(.accessDenied): "token rejected"
        case .stopped(.tooManyFailures): "too many failures"
        case .stopped(.firstItemRejected): "first license rejected"
        case .stopped(.rateLimited): "rate-limited"
        case .stopped(.unreachable): "API unreachable"
        case .refused, .dryRun: "refused"
        }
        try journal.endRun(runID, outcome: outcome, summary: RunSummaryText.line(final))
        var report = Report(ending: ending, counts: final, summary: plan.summary, problems: plan.summary.fileDiagnostics + plan.problems,
                      licenses: licenses, toSettle: work.count, resultsPath: configuration.resultsPath,
                      journalPath: configuration.journalPath, elapsed: ContinuousClock.now - started, settling: settling,
                      commits: committer.commitCount)
        report.failureReasons = reasons.map { (reason: $0.key, count: $0.value) }.sorted { ($0.count, $1.reason) > ($1.count, $0.reason) }
        return report
    }
}

/// The first journal failure a worker met (the run stops on it).
private final class JournalFailureBox: Sendable {
    private let stored = Mutex<JournalError?>(nil)
    func set(_ error: JournalError) { stored.withLock { if $0 == nil { $0 = error } } }
    var error: JournalError? { stored.withLock { $0 } }
}

/// A run's two kinds of rows: licenses to create, changes to existing ones.
private struct Worker: Sendable {
    let creates: LicenseWorker
    let changes: ChangeWorker

    @discardableResult
    func settle(_ item: LoadedItem) async throws(JournalError) -> String? {
        item.change == nil ? try await creates.settle(item) : try await changes.settle(item)
    }
}

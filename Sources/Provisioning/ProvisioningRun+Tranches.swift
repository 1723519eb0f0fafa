import APIRequests
import CryptlexAPI
import Foundation
import Ingestion
import Journal
import Scheduling

/// A fresh file sent while it is registered: the first license of a 1,000,000-row file goes out
/// seconds after the start instead of after the whole file is journaled.
///
/// 1. The whole file is checked first (read-only, in parallel; about 2 s for 1,000,000 rows): a
///    file that would be refused sends nothing, as before — it goes the usual way, which refuses
///    it with every problem and registers nothing.
/// 2. Registering runs on its own thread in parts (``RunPlanner/planInTranches(halt:deliver:)``),
///    each committed before any of its work is handed out: licprov still records every intent
///    before its send.
/// 3. For each part, the run looks up its new resellers, organizations and customers together and
///    reads its change rows' licenses together, as it does for a whole file, then gives the part to
///    the open ``WorkFeed``; the workers are already sending the parts before it.
///
/// A signal (Ctrl-C) ends registering at its next part: the rows registered stay (the next run
/// resumes them and registers the rest); the results list the rows registered. A stop for any other
/// reason lets registering finish, so the results list every row.
///
/// Only into a journal without entries (nothing to match, look up or compare) and from a file that
/// can be read twice (not standard input); a resumed run plans the usual way.
extension ProvisioningRun {
    func registersWhileSending(_ journal: SQLiteJournal) throws -> Bool {
        guard !configuration.dryRun, configuration.inputPath != "-", configuration.derivedRows == nil else {
            return false
        }
        return try journal.isEmpty()
    }

    /// Runs the file in parts; nil when the file would be refused (nothing was registered or sent).
    func executeInTranches(
        journal: SQLiteJournal, started: ContinuousClock.Instant,
        progress: (@Sendable (_ counts: RunCounts, _ total: Int, _ final: Bool) -> Void)?,
        progressInterval: Duration
    ) async throws -> Report? {
        var options = configuration.ingest
        options.markerKey = configuration.markerKey
        options.keepIDAsMetadata = configuration.keepIDAsMetadata
        let path = configuration.inputPath
        logger.info(
            "planning: checking the whole file, then registering it in parts while sending",
            metadata: ["file": "\(path)"])
        let summary: IngestSummary
        do {
            summary = try await OwnThread.run("checking") { [options, stop] in
                var rows = 0
                return try OrderFileReader(path: path, options: options).read { _ in
                    rows += 1
                    if rows & 255 == 0, stop.isRequested { throw RunPlanner.Interrupted(rows: rows) }
                }
            }
        } catch let interrupted as RunPlanner.Interrupted {
            logger.notice(
                "interrupted while checking the file, after \(interrupted.rows) rows: nothing was registered or sent")
            return interruptedWhilePlanning(started: started)
        }
        if stop.isRequested { return interruptedWhilePlanning(started: started) }
        if summary.fileDiagnostics.contains(where: { $0.severity == .error })
            || (summary.errors > 0 && !configuration.skipInvalid)
        {
            return nil
        }
        // Every license to create and every change: the work the parts will bring (a fresh journal
        // has nothing else), for the workers' number and the progress.
        let total = summary.licenses + summary.changes

        let (tranches, delivery) = AsyncStream<RunPlanner.Tranche>.makeStream()
        let halt = StopSignal()
        // Registering goes on after the run stopped for a failure (the results list every row, as
        // they do when the whole file is registered first); only a signal ends it early (`halt`).
        let planner = RunPlanner(configuration: configuration, journal: journal)
        let stop = self.stop
        let registering = Task.inheriting {
            defer { delivery.finish() }
            do {
                return try await OwnThread.run("planning") {
                    try planner.planInTranches(halt: halt) { delivery.yield($0) }
                }
            } catch {
                // The journal failed: nothing more can be recorded, so nothing more is sent.
                stop.request(.interrupted)
                throw error
            }
        }
        do {
            let (runID, counters, requests) = try await begin(journal, hasWork: total > 0)
            let committer = JournalCommitter(journal: journal, run: runID, inPlace: PreferredExecutor.isSet)
            let worker = try await prepareWorker(
                plan: RunPlan(), journal: journal, requests: requests, committer: committer, inParts: true)
            let feed = WorkFeed(
                journal: journal, run: runID, work: [], chunk: 2 * configuration.concurrency, open: true)
            configuration.journalWriters?.watch(committer, feed)
            let feeding = Task.inheriting {
                for await tranche in tranches {
                    do {
                        try await worker.prepare(tranche, journal: journal, requests: requests, client: client)
                    } catch {
                        logger.warning(
                            "looking up a part's customers and targets failed; its workers look them up one by one",
                            metadata: ["reason": "\(error)"])
                    }
                    await feed.append(tranche.work)
                }
                await feed.close()
            }
            let settlingStarted = ContinuousClock.now
            try await settle(
                total, with: worker, feed: feed, counters: counters, progress: progress, interval: progressInterval)
            let settling = ContinuousClock.now - settlingStarted
            if stop.reason == .interrupted { halt.request(.interrupted) }
            var plan = try await registering.value
            await feeding.value
            if plan.interrupted {
                plan.summary = summary
                logger.notice(
                    "stopped while registering the file: the rows after line \(plan.lastLine) are not in the journal yet, nor in the results; run again to resume"
                )
            }
            let work = plan.lookups.count + plan.sends.count
            let final = try await settled(
                work, feed: feed, committer: committer, counters: counters, progress: progress)
            logger.info(
                "registered in parts",
                metadata: [
                    "licenses": "\(plan.summary.licenses)", "toSend": "\(work)",
                    "complete": "\(!plan.interrupted)",
                ])
            return try await finish(
                plan: plan, journal: journal, runID: runID, counts: final, toSettle: work,
                started: started, settling: settling, commits: committer.commitCount)
        } catch {
            // Registering stops at its next row; nothing it committed is lost (pending, for the next run).
            halt.request(.interrupted)
            _ = try? await registering.value
            throw error
        }
    }
}

extension ProvisioningRun.Worker {
    /// What a part of the file needs before its sends, looked up together: the resellers,
    /// organizations and customers it registered (read by id range: the whole journal's pending
    /// ones took 0.22 s a part on 1,000,000 rows, 250 parts), and the licenses its change rows name.
    func prepare(_ tranche: RunPlanner.Tranche, journal: SQLiteJournal, requests: RunRequests, client: CryptlexClient)
        async throws
    {
        await creates.directory.resolveTogether(try journal.pendingDirectory(after: tranche.directoryAfter))
        await creates.customers.resolveTogether(try journal.pendingCustomers(after: tranche.customersAfter))
        if !tranche.changeEntries.isEmpty {
            changes.resolved.add(
                try await ChangeTargets.prefetch(
                    tranche.changeEntries, journal: journal, requests: requests, client: client))
        }
    }
}

import APIRequests
import CryptlexAPI
import CryptlexModels
import Foundation
import Ingestion
import Journal
import Scheduling

extension ProvisioningRun {
    /// Plans against a copy of the journal (or, when there is none yet, an empty scratch journal)
    /// and reports what a run would do. No network; no journal is opened for writing, so the
    /// journal's bytes and modification time stay as they were, and a run using it at the same
    /// time goes on undisturbed (see ``SQLiteJournal/snapshot(of:to:)``). The copy is private
    /// (0600, in the temporary folder) and deleted at the end.
    func dryRun(started: ContinuousClock.Instant) async throws -> Report {
        var configuration = configuration
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent(
            "licprov-dry-run-\(UUID().uuidString).sqlite"
        ).path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: scratch + suffix) } }
        configuration.dryRun = true
        let live = configuration.journalPath
        let stop = self.stop
        let planning = ProvisioningRun(configuration: configuration, client: client, stop: stop, logger: logger)
        let plan: RunPlan
        do {
            plan = try await OwnThread.run("dry-run") {
                if FileManager.default.fileExists(atPath: live) { try SQLiteJournal.snapshot(of: live, to: scratch) }
                let journal = try SQLiteJournal(path: scratch)
                let resolved = try planning.withMarkerKey(of: journal).configuration
                return try RunPlanner(configuration: resolved, journal: journal, stop: stop).plan()
            }
        } catch is RunPlanner.Interrupted {
            return interruptedWhilePlanning(started: started)
        }
        var counts = RunCounts()
        counts.alreadyDone = plan.alreadyDone
        counts.rejected = plan.invalidRows
        counts.skipped = plan.skipped
        counts.conflicts = plan.edited
        return Report(
            ending: plan.refused ? .refused : .dryRun, counts: counts, summary: plan.summary,
            problems: plan.summary.fileDiagnostics + plan.problems, licenses: plan.summary.licenses,
            toSettle: plan.lookups.count + plan.sends.count, resultsPath: nil, journalPath: configuration.journalPath,
            elapsed: ContinuousClock.now - started, commits: 0, plannedLookups: plan.lookups.count,
            plannedSends: plan.sends.count, sampleBodies: plan.sampleRequests)
    }

    /// A stop (Ctrl-C) while the file was being read: the registration was rolled back, nothing
    /// was sent, no results were written.
    func interruptedWhilePlanning(started: ContinuousClock.Instant) -> Report {
        Report(
            ending: .stopped(stop.reason ?? .interrupted), counts: RunCounts(), summary: IngestSummary(), problems: [],
            licenses: 0,
            toSettle: 0, resultsPath: nil, journalPath: configuration.journalPath,
            elapsed: ContinuousClock.now - started, commits: 0)
    }
}

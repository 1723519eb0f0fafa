import APIRequests
import CryptlexAPI
import Foundation
import Journal
import Scheduling
import Synchronization

/// The middle of a run: the workers made ready, then every item settled under the run's limits.
extension ProvisioningRun {
    /// The run's worker, with what can be looked up together before any send already looked up:
    /// resellers and organizations not looked up yet (a hundred names a request), customers not
    /// looked up yet (a hundred emails a request), entries that may exist (a hundred
    /// markers a request) and the licenses change rows name.
    ///
    /// `inParts`: the file is registered while the run sends; each part's are looked up as it
    /// comes (``Worker/prepare(_:journal:requests:client:)``), not here.
    func prepareWorker(
        plan: RunPlan, journal: SQLiteJournal, requests: RunRequests,
        committer: JournalCommitter, inParts: Bool = false
    ) async throws -> Worker {
        let directory = DirectoryResolver(
            journal: journal, client: client, requests: requests, reconcileDelay: configuration.reconcileDelay,
            logger: logger)
        let customers = CustomerResolver(
            journal: journal, client: client, requests: requests, createUsers: configuration.createUsers,
            reconcileDelay: configuration.reconcileDelay, logger: logger, directory: directory)
        var creates = LicenseWorker(
            client: client, customers: customers, directory: directory, requests: requests, committer: committer,
            markerKey: configuration.markerKey, reconcileDelay: configuration.reconcileDelay,
            maxFailures: configuration.maxFailures, logger: logger)
        creates.markerLookups = configuration.markerKey.map {
            MarkerLookups(
                requests: requests, client: client, markerKey: $0,
                gather: min(.seconds(1), configuration.reconcileDelay))
        }
        let changes = ChangeWorker(
            client: client, requests: requests, committer: committer, maxFailures: configuration.maxFailures,
            logger: logger,
            customers: customers)
        if !stop.isRequested, !inParts {
            await directory.resolveTogether(try journal.pendingDirectory())
            await customers.resolveTogether(try journal.pendingCustomers())
            creates.prefetched = try await BatchedLookups.prefetch(
                plan.lookups, journal: journal, requests: requests, client: client,
                markerKey: configuration.markerKey,
                reconcileDelay: configuration.reconcileDelay)
        }
        if !stop.isRequested, !plan.changeEntries.isEmpty {
            changes.resolved.add(
                try await ChangeTargets.prefetch(
                    plan.changeEntries, journal: journal, requests: requests, client: client))
        }
        return Worker(creates: creates, changes: changes)
    }

    /// Settles the `total` items `feed` gives out: the first alone (a product or template that does
    /// not exist fails it with a 400, and the run stops after one request instead of thousands),
    /// then `--concurrency` at a time, until the feed is empty or a stop. Reports progress every
    /// `interval`. Throws the first ``JournalError`` a worker met (the run stopped on it).
    func settle(
        _ total: Int, with worker: Worker, feed: WorkFeed, counters: RunCounters,
        progress: (@Sendable (_ counts: RunCounts, _ total: Int, _ final: Bool) -> Void)?,
        interval: Duration
    ) async throws(JournalError) {
        let journalFailure = JournalFailureBox()
        let stop = self.stop
        await withTaskGroup(of: Void.self) { group in
            if let progress {
                group.addTask {
                    while !Task.isCancelled {
                        do { try await Task.sleep(for: interval) } catch { return }
                        progress(counters.snapshot, total, false)
                    }
                }
            }
            group.addTask { await feed.run() }
            do throws(JournalError) {
                if !stop.isRequested, let first = try await feed.take(), let rejection = try await worker.settle(first)
                {
                    stop.request(.firstItemRejected(rejection))
                }
            } catch {
                journalFailure.set(error)
                stop.request(.interrupted)
            }
            await WorkerPool.run(
                concurrency: min(configuration.concurrency, max(total, 1)), stop: stop,
                next: {
                    do throws(JournalError) {
                        return try await feed.take()
                    } catch {
                        journalFailure.set(error)
                        stop.request(.interrupted)
                        return nil
                    }
                },
                work: { item in
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
        if let error = journalFailure.error { throw error }
    }

    /// A run's two kinds of rows: licenses to create, changes to existing ones.
    struct Worker: Sendable {
        let creates: LicenseWorker
        let changes: ChangeWorker

        @discardableResult
        func settle(_ item: LoadedItem) async throws(JournalError) -> String? {
            item.change == nil ? try await creates.settle(item) : try await changes.settle(item)
        }
    }
}

/// The first journal failure a worker met (the run stops on it).
private final class JournalFailureBox: Sendable {
    private let stored = Mutex<JournalError?>(nil)
    func set(_ error: JournalError) { stored.withLock { if $0 == nil { $0 = error } } }
    var error: JournalError? { stored.withLock { $0 } }
}

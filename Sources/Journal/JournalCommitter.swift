import Dispatch
import GRDB
import Synchronization

/// Group commit for a run's workers: each worker asks for one write and waits for it; every write
/// asked for while the previous transaction was syncing goes into the next transaction together.
///
/// With `synchronous = FULL` a commit costs one `fsync`; with 32 workers that is one `fsync`
/// for up to 32 state changes instead of one each. A worker's `await` returns only once its
/// change is on disk, so "marked in flight" is durable before the request is sent.
///
/// The writes run on a serial dispatch queue of their own, because SQLite's `fsync` blocks
/// a thread and must not block the cooperative pool.
package final class JournalCommitter: Sendable {
    private typealias Waiter = CheckedContinuation<Void, any Error>
    private struct Pending: Sendable {
        var operations: [SQLiteJournal.Operation] = []
        var waiters: [Waiter] = []
        var writing = false
        /// The first failed commit that nobody was waiting for; every later call throws it.
        var failure: JournalError?
    }

    private let journal: SQLiteJournal
    private let run: Int64
    private let pending = Mutex(Pending())
    private let queue = DispatchQueue(label: "licprov.journal.commit")
    private let inPlace: Bool
    private let transactions = Atomic<Int>(0)

    /// Commits for `run` into `journal`. `inPlace`: each write is committed by the caller that
    /// asks for it, before the call returns, rather than on the committer's queue (a simulation
    /// that runs a process on one thread of its own, in a replayable order).
    package init(journal: SQLiteJournal, run: Int64, inPlace: Bool = false) {
        self.journal = journal
        self.run = run
        self.inPlace = inPlace
    }

    /// How many transactions have been committed (for benchmarks: operations per commit).
    package var commitCount: Int { transactions.load(ordering: .relaxed) }

    /// Now, as the journal writes times (on its wall clock).
    package func timestamp() -> String { journal.timestamp() }

    /// Nothing queued and nothing being written.
    package var isIdle: Bool { pending.withLock { !$0.writing && $0.operations.isEmpty } }

    /// Marks an entry in flight; returns once that is on disk.
    package func markInFlight(_ id: Int64) async throws(JournalError) {
        try await submit([.markInFlight(id)])
    }

    /// Records a change's license and its state before the change; returns once that is on disk
    /// (before the change is sent: what `undo` and a lost answer's settlement compare with).
    package func recordTarget(_ id: Int64, licenseID: String, licenseKey: String?, beforeState: String)
        async throws(JournalError)
    {
        try await submit([.recordTarget(id: id, licenseID: licenseID, licenseKey: licenseKey, beforeState: beforeState)]
        )
    }

    /// Returns entries marked ahead of time, and never sent, to pending.
    package func unmark(_ ids: [Int64]) async throws(JournalError) {
        try await submit(ids.map { .unmark($0) })
    }

    /// Queues an outcome without waiting for the disk. Commits keep the order of the calls, so
    /// the next ``markInFlight(_:)`` of anyone returns only after this is on disk too. An outcome
    /// lost in a crash leaves its entry in flight, which the next run settles by a lookup.
    package func post(_ outcome: AttemptOutcome) throws(JournalError) {
        let startWriter = try pending.withLock { (state: inout Pending) throws(JournalError) -> Bool in
            if let failure = state.failure { throw failure }
            state.operations.append(.outcome(outcome))
            guard !state.writing else { return false }
            state.writing = true
            return true
        }
        if startWriter { startDraining() }
    }

    /// Returns once everything queued so far is on disk; throws the first failed commit.
    package func flush() async throws(JournalError) {
        try await submit([])
    }

    /// Replaces the operation of an entry whose lookup found nothing; returns once that is on disk.
    package func replaceOperation(_ id: Int64, operation: StoredOperation, bodyHash: String) async throws(JournalError)
    {
        try await submit([.replaceOperation(id: id, operation: operation, bodyHash: bodyHash)])
    }

    private func submit(_ operations: [SQLiteJournal.Operation]) async throws(JournalError) {
        do {
            try await withCheckedThrowingContinuation { (waiter: Waiter) in
                let startWriter = pending.withLock { state in
                    if let failure = state.failure {
                        waiter.resume(throwing: failure)
                        return false
                    }
                    state.operations += operations
                    state.waiters.append(waiter)
                    guard !state.writing else { return false }
                    state.writing = true
                    return true
                }
                if startWriter { startDraining() }
            }
        } catch let error as JournalError {
            throw error
        } catch {
            throw JournalError(path: journal.path, operation: "record progress", error)
        }
    }

    private func startDraining() {
        if inPlace { drain() } else { queue.async { self.drain() } }
    }

    /// Commits batches until nothing is waiting. Runs on `queue` only (or in place).
    private func drain() {
        while true {
            let (operations, waiters) = pending.withLock { state -> ([SQLiteJournal.Operation], [Waiter]) in
                if state.operations.isEmpty {
                    // Only waiters for a flush: everything before them is on disk, or failed.
                    let waiters = state.waiters
                    state.waiters.removeAll()
                    state.writing = false
                    for waiter in waiters {
                        if let failure = state.failure { waiter.resume(throwing: failure) } else { waiter.resume() }
                    }
                    return ([], [])
                }
                // Taken, not copied and cleared: `removeAll(keepingCapacity:)` on an array still
                // shared allocates anew with the capacity the allocator rounded up to, which grows
                // commit after commit.
                defer {
                    state.operations = []
                    state.waiters = []
                }
                return (state.operations, state.waiters)
            }
            guard !operations.isEmpty else { return }
            let run = self.run
            do throws(JournalError) {
                let now = journal.timestamp()
                try journal.write("record progress") { db in
                    try SQLiteJournal.apply(operations, run: run, now: now, in: db)
                }
                transactions.add(1, ordering: .relaxed)
                for waiter in waiters { waiter.resume() }
            } catch {
                pending.withLock { state in if state.failure == nil { state.failure = error } }
                for waiter in waiters { waiter.resume(throwing: error) }
            }
        }
    }
}

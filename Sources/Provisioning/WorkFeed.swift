import CryptlexModels
import Foundation
import Ingestion
import Journal

/// Hands work to the run's workers in order, a chunk at a time: one read loads the bodies of a
/// chunk of entries, and one commit marks the chunk's sends *in flight* before any of them is
/// handed out.
///
/// Marking ahead takes the journal's `fsync` off each request's path (a worker sends the moment it
/// takes an item) at a bounded price: after a `kill -9`, up to two chunks of entries that were
/// marked but never sent are looked up on the next run instead of sent straight away. A run that
/// stops cleanly returns the untaken ones to pending (``untaken()``). Entries that need a lookup
/// first are not marked: the worker marks them after the lookup, if it sends at all.
///
/// Loading runs in ``run()`` — a child task of the run — one chunk ahead of the workers, so
/// workers never wait for the disk while there is work loaded.
///
/// An *open* feed takes more work while it runs (``append(_:)``, the parts of a large file as they
/// are registered) until ``close()``; its takers wait for more instead of ending.
actor WorkFeed {
    private let journal: SQLiteJournal
    private let run: Int64
    private var work: [WorkItem]
    /// More work may come (``append(_:)``) until ``close()``.
    private var open: Bool
    private let chunk: Int
    private var next = 0
    private var ready: [LoadedItem] = []
    private var readyNext = 0
    private var finished = false
    private var failure: JournalError?
    private var takers: [CheckedContinuation<Void, Never>] = []
    private var loader: CheckedContinuation<Void, Never>?
    /// A chunk is being read and marked (off the actor).
    private var loading = false
    private var loaderEnded = false

    /// - Parameter chunk: entries loaded and marked at once (twice the concurrency is plenty).
    init(journal: SQLiteJournal, run: Int64, work: [WorkItem], chunk: Int, open: Bool = false) {
        self.journal = journal
        self.run = run
        self.work = work
        self.open = open
        self.chunk = max(1, chunk)
    }

    /// Loads chunks while fewer than one chunk is waiting; returns when all work is loaded, the
    /// run stops (``finish()``), or the journal fails.
    func run() async {
        while !finished, next < work.count || open {
            if ready.count - readyNext >= chunk || next == work.count {
                await withCheckedContinuation { loader = $0 }
                continue
            }
            let slice = work[next..<min(next + chunk, work.count)]
            next = slice.endIndex
            loading = true
            defer { loading = false }
            do {
                // Off the actor: workers keep taking loaded items while this chunk is read and marked.
                let loaded = try await load(slice)
                ready.removeFirst(readyNext)
                readyNext = 0
                ready += loaded
            } catch {
                failure = error
                finished = true
            }
            wakeTakers()
        }
        finished = true
        loaderEnded = true
        wakeTakers()
    }

    /// The loader waits for takers (or has ended) and is not reading or marking a chunk: it will
    /// not write to the journal until a taker takes an item.
    var loaderIsIdle: Bool { !loading && (loader != nil || loaderEnded) }

    /// The next item; nil when the work is done or the run stopped. Throws the journal's failure.
    func take() async throws(JournalError) -> LoadedItem? {
        while readyNext == ready.count {
            if let failure { throw failure }
            if finished { return nil }
            await withCheckedContinuation { takers.append($0) }
        }
        defer {
            readyNext += 1
            if ready.count - readyNext < chunk { wakeLoader() }
        }
        return ready[readyNext]
    }

    /// More work, after what the feed has (an open feed).
    func append(_ items: [WorkItem]) {
        guard !items.isEmpty else { return }
        work += items
        wakeLoader()
    }

    /// No more work will come: the feed ends once what it has is taken.
    func close() {
        open = false
        wakeLoader()
    }

    private func wakeLoader() {
        if let waiting = loader {
            loader = nil
            waiting.resume()
        }
    }

    /// Stops loading and releases every waiting taker.
    func finish() {
        finished = true
        wakeLoader()
        wakeTakers()
    }

    /// Entries marked in flight but never handed out (the run stopped): they were not sent.
    func untaken() -> [Int64] {
        ready[readyNext...].filter(\.markedInFlight).map(\.entryID)
    }

    private func wakeTakers() {
        let waiting = takers
        takers = []
        for taker in waiting { taker.resume() }
    }

    private nonisolated func load(_ slice: ArraySlice<WorkItem>) async throws(JournalError) -> [LoadedItem] {
        let entries = try journal.entries(ids: slice.map(\.entryID))
        let loaded = slice.compactMap { item -> LoadedItem? in
            guard let entry = entries[item.entryID] else { return nil }
            // Read for sending, typed (an operation that does not decode throws in the read).
            var change: LoadedItem.Change?
            if let operation = entry.operation, operation.action.isChange {
                change = LoadedItem.Change(
                    operation: operation, target: entry.target, beforeState: entry.beforeState,
                    licenseID: entry.licenseID, maybeSent: entry.maybeSent || entry.state == .inFlight)
            }
            return LoadedItem(
                entryID: entry.id, rowID: entry.rowID, marker: entry.marker,
                request: entry.operation?.request,
                needsLookup: item.needsLookup, replacement: item.replacement,
                // A change is marked in flight by its worker, once its before-state is recorded.
                markedInFlight: !item.needsLookup && change == nil,
                customerRef: entry.customerRef, organizationRef: entry.organizationRef, resellerRef: entry.resellerRef,
                change: change, rowGone: item.rowGone)
        }
        let sends = loaded.filter(\.markedInFlight).map(\.entryID)
        if !sends.isEmpty { try journal.markInFlight(sends, run: run) }
        return loaded
    }
}

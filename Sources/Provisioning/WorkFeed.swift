import Journal

/// Hands work to the run's workers in order, a chunk at a time: one read loads the bodies of a
/// chunk of entries, and one commit marks the chunk's sends *in flight* before any of them is
/// handed out.
///
/// Marking ahead takes the journal's `fsync` off each request's path (a worker sends the moment it
/// takes an item) at a bounded price: after a `kill -9`, up to one chunk of entries that were
/// marked but never sent is looked up on the next run instead of sent straight away. A run that
/// stops cleanly returns the untaken ones to pending (``untaken()``). Entries that need a lookup
/// first are not marked: the worker marks them after the lookup, if it sends at all.
actor WorkFeed {
    private let journal: SQLiteJournal
    private let run: Int64
    private let work: [WorkItem]
    private let chunk: Int
    private var next = 0
    private var loaded: [LoadedItem] = []
    private var loadedNext = 0

    /// - Parameter chunk: entries loaded and marked at once (twice the concurrency is plenty).
    init(journal: SQLiteJournal, run: Int64, work: [WorkItem], chunk: Int) {
        self.journal = journal
        self.run = run
        self.work = work
        self.chunk = max(1, chunk)
    }

    /// The next item, or nil when the work is done. A journal that cannot be read or written ends the work.
    func take() throws(JournalError) -> LoadedItem? {
        while loadedNext == loaded.count {
            guard next < work.count else { return nil }
            let slice = work[next..<min(next + chunk, work.count)]
            next = slice.endIndex
            let entries = try journal.entries(ids: slice.map(\.entryID))
            loaded = slice.compactMap { item in
                entries[item.entryID].map { entry in
                    LoadedItem(entryID: entry.id, rowID: entry.rowID, marker: entry.marker, body: entry.body,
                               needsLookup: item.needsLookup, replacement: item.replacement, markedInFlight: !item.needsLookup,
                               customerRef: entry.customerRef)
                }
            }
            loadedNext = 0
            let sends = loaded.filter(\.markedInFlight).map(\.entryID)
            if !sends.isEmpty { try journal.markInFlight(sends, run: run) }
        }
        defer { loadedNext += 1 }
        return loaded[loadedNext]
    }

    /// Entries marked in flight but never handed out (the run stopped): they were not sent.
    func untaken() -> [Int64] {
        loaded[loadedNext...].filter(\.markedInFlight).map(\.entryID)
    }
}

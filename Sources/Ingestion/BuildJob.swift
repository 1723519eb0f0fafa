import Dispatch
import FileFormats
import Synchronization

extension RowBuilder {
    /// Builds a row into `slot` (uninitialised) with everything the delivery stage needs
    /// precomputed: the caller's ``IngestOptions/prepare`` for a valid row, the hashes for the
    /// duplicate checks. (In place: a built row is large, and copying it is not free.)
    mutating func build(_ raw: RawRow, _ storage: BatchStorage, into slot: UnsafeMutablePointer<BuiltRow>) {
        slot.initialize(to: build(raw, storage))
        guard slot.pointee.fatal == nil else { return }
        if let key = slot.pointee.row.request.key { slot.pointee.keyHash = DuplicateTracker.hash(key) }
        if options.idColumn != nil, slot.pointee.row.idIsFromColumn {
            slot.pointee.idHash = DuplicateTracker.hash(slot.pointee.row.rowID)
        }
        if let prepare = options.prepare, slot.pointee.row.isValid {
            slot.pointee.row.prepared = prepare(slot.pointee.row)
        }
    }
}

/// A batch's buffers, as the rows' ranges point into them.
struct BatchStorage {
    var bytes: UnsafeBufferPointer<UInt8>
    var ends: UnsafeBufferPointer<Int>
}

/// One batch being built on worker threads: each core builds a slice of it into `output`.
///
/// Slices are claimed, not assigned: a worker task takes the next unclaimed slice until none is
/// left, and the delivering thread, before it waits for a batch, builds any slice no worker has
/// taken yet. So a read never depends on a free worker thread (the pool is shared with Swift
/// concurrency, and a test run may have every thread busy): at worst it builds alone.
final class BuildJob: @unchecked Sendable {
    /// Cores the parallel stage uses (`LICPROV_INGEST_WORKERS` overrides, for measuring).
    static let workers = max(1, min(System.workerOverride ?? System.coreCount, 8))
    /// Batches in flight at once: enough that no worker waits for the splitting thread.
    static let depth = workers + 1

    let count: Int
    /// The built rows; a slot is initialised once its slice is done (after ``wait()``).
    let output: UnsafeMutablePointer<BuiltRow>
    private let batch: RawBatch
    private let builder: RowBuilder
    private let slices: Int
    private let nextSlice = Atomic<Int>(0)
    private let group = DispatchGroup()

    /// Starts building `batch` with (copies of) `builder` on `tasks` worker tasks (one a slice
    /// unless given; 0 leaves every slice to ``wait()``).
    init(_ batch: RawBatch, builder: RowBuilder, tasks: Int? = nil) {
        count = batch.rows.count
        output = .allocate(capacity: count)
        self.batch = batch
        self.builder = builder
        slices = count < 256 ? 1 : Self.workers
        for _ in 0..<(tasks ?? slices) {
            // Each task holds the job, so the job outlives every write into `output`.
            DispatchQueue.global().async(group: group) { [self] in buildSlices() }
        }
    }

    /// Builds unclaimed slices until none is left.
    private func buildSlices() {
        while true {
            let slice = nextSlice.add(1, ordering: .relaxed).oldValue
            guard slice < slices else { return }
            var builder = self.builder.unshared()
            batch.bytes.withUnsafeBufferPointer { bytes in
                batch.ends.withUnsafeBufferPointer { ends in
                    for index in count * slice / slices..<count * (slice + 1) / slices {
                        builder.build(batch.rows[index], BatchStorage(bytes: bytes, ends: ends), into: output + index)
                    }
                }
            }
        }
    }

    /// Builds what no worker has started, then waits until every slot is built.
    func wait() {
        buildSlices()
        group.wait()
    }

    /// Batches delivered and waiting for a worker to free them.
    private static let awaitingRelease = Atomic<Int>(0)

    /// Drops the batch on a worker thread, where its rows were allocated, not on the thread
    /// that delivers them — unless two already wait for one: then here, so that memory stays
    /// bounded when the workers are busy.
    func releaseOnWorker() {
        guard Self.awaitingRelease.add(1, ordering: .relaxed).newValue <= 2 else {
            Self.awaitingRelease.subtract(1, ordering: .relaxed)
            return
        }
        let retained = Unmanaged.passRetained(self)
        DispatchQueue.global().async {
            retained.release()
            Self.awaitingRelease.subtract(1, ordering: .relaxed)
        }
    }

    deinit {
        output.deinitialize(count: count)
        output.deallocate()
    }
}

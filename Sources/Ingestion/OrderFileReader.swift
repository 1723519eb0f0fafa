import Dispatch
import Synchronization

/// Reads an order file (CSV, JSON array or NDJSON) as a stream and hands each row over mapped and
/// validated, with every problem as a ``Diagnostic``.
///
/// The read is a three-stage pipeline over batches of rows:
/// 1. the calling thread splits the bytes into raw rows (CSV records, JSON elements, NDJSON lines);
/// 2. each batch of raw rows is parsed, mapped, validated and hashed on worker threads, one
///    slice per core, while the calling thread goes on splitting (a few batches in flight);
/// 3. the calling thread hands rows over one by one in file order, after the checks that span
///    rows (a key or a row id used twice, an unknown field name reported once); a delivered
///    batch is freed on a worker thread.
///
/// Nothing is kept per row but a hash of its key and id, so memory does not grow with the file
/// beyond those.
public struct OrderFileReader {
    public let path: String
    public let options: IngestOptions
    public let format: InputFormat
    private let mapper: RowMapper
    /// Rows per batch handed to the parallel stage. (A built row takes ~600 bytes before its
    /// strings; with the batches in flight and those waiting to be freed, 512 keeps the stage
    /// to a few megabytes.)
    static let batchSize = 512

    public init(path: String, options: IngestOptions) throws(IngestionError) {
        self.path = path
        self.options = options
        if let format = options.format {
            self.format = format
        } else if let dot = path.lastIndex(of: "."), let format = InputFormat(pathExtension: String(path[path.index(after: dot)...])) {
            self.format = format
        } else {
            throw .unknownFormat(file: path == "-" ? "<stdin>" : path)
        }
        mapper = try RowMapper(file: path == "-" ? "<stdin>" : path, defaults: options.defaults, timeZone: options.timeZone)
    }

    /// Reads the whole file, calling `body` with each row in file order.
    ///
    /// Throws ``IngestionError`` for a file that cannot be read at all; everything else is in the
    /// rows' diagnostics and the summary.
    @discardableResult
    public func read(_ body: (OrderRow) throws -> Void) throws -> IngestSummary {
        try withoutActuallyEscaping(body) { try read(escaping: $0) }
    }

    private func read(escaping body: @escaping (OrderRow) throws -> Void) throws -> IngestSummary {
        let source = try ByteChunkReader(path: path)
        let file = source.displayName
        var pipeline = RowPipeline(builder: RowBuilder(file: file, mapper: mapper, options: options), body: body)
        var sawBytes = false
        switch format {
        case .csv:
            var reader = CSVReader(file: file, delimiter: options.delimiter)
            var ordinal = 0
            let handle: (CSVReader.Record) throws -> Void = { record in
                if pipeline.builder.header == nil {
                    pipeline.summary.fileDiagnostics += try pipeline.builder.readHeader(record.decoded())
                    pipeline.summary.errors += pipeline.summary.fileDiagnostics.count
                } else {
                    ordinal += 1
                    try pipeline.addRecord(record, ordinal: ordinal)
                }
            }
            try source.forEachChunk { chunk in
                sawBytes = true
                try reader.consume(chunk, emit: handle)
            }
            guard sawBytes else { throw IngestionError.emptyFile(file: file) }
            try reader.finish(emit: handle)
            if pipeline.builder.header == nil { throw IngestionError.emptyFile(file: file) }
        case .json:
            var reader = JSONArrayReader(file: file)
            try source.forEachChunk { chunk in
                sawBytes = true
                try reader.consume(chunk) { try pipeline.addElement($0) }
            }
            try pipeline.flush()
            try reader.finish()
        case .ndjson:
            var reader = NDJSONReader(file: file)
            var ordinal = 0
            let handle: NDJSONReader.Emit = { bytes, line in
                ordinal += 1
                try pipeline.addLine(bytes, line: line, ordinal: ordinal)
            }
            try source.forEachChunk { chunk in
                sawBytes = true
                try reader.consume(chunk, emit: handle)
            }
            guard sawBytes else { throw IngestionError.emptyFile(file: file) }
            try reader.finish(emit: handle)
        }
        try pipeline.flush()
        pipeline.finish()
        return pipeline.summary
    }
}

/// A row as the splitting stage found it, before parsing and mapping.
enum RawRow: Sendable {
    /// A CSV record: its bytes are `bytes` of the batch's ``RawBatch/bytes``, its fields' ends
    /// (from the record's first byte) are `ends` of the batch's ``RawBatch/ends``.
    case csv(bytes: Range<Int>, ends: Range<Int>, line: Int, problems: [CSVReader.Problem], delimiter: UInt8, ordinal: Int)
    /// An element of a JSON array: its bytes are `bytes` of the batch's ``RawBatch/bytes``.
    case jsonElement(bytes: Range<Int>, line: Int, column: Int, index: Int)
    /// A line of NDJSON: its bytes are `range` of the batch's ``RawBatch/bytes``.
    case ndjsonLine(Range<Int>, line: Int, ordinal: Int)
}

/// Raw rows handed to the parallel stage together, and the bytes their CSV records, JSON
/// elements and NDJSON lines are in (one buffer a batch, not an array or a string a row: the splitting thread
/// allocates nothing per row).
struct RawBatch: Sendable {
    var rows: [RawRow] = []
    var bytes: [UInt8] = []
    var ends: [Int] = []

    init() { rows.reserveCapacity(OrderFileReader.batchSize) }
}

/// What the parallel stage made of a raw row, with what the checks that span rows need.
struct BuiltRow: Sendable {
    var row: OrderRow
    /// The unknown field names the row used (JSON only).
    var unknownNames: [String] = []
    /// The file cannot be read past this row.
    var fatal: IngestionError?
    /// ``DuplicateTracker/hash(_:)`` of the row's key and of its id from the id column.
    var keyHash: UInt64?
    var idHash: UInt64?

    init(row: OrderRow, unknownNames: [String] = []) {
        self.row = row
        self.unknownNames = unknownNames
    }

    init(fatal: IngestionError) {
        row = OrderRow(position: SourcePosition(line: 0, ordinal: 0), rowID: "", request: .init(productId: ""), customer: nil, quantity: 1, diagnostics: [])
        self.fatal = fatal
    }
}

/// Stages 2 and 3: batches raw rows, builds them on worker threads, delivers them in order.
private struct RowPipeline {
    var builder: RowBuilder
    let body: (OrderRow) throws -> Void
    var summary = IngestSummary()
    var batch = RawBatch()
    /// Batches being built, oldest first.
    var inFlight: [BuildJob] = []
    var keys = DuplicateTracker()
    var rowIDs = DuplicateTracker()
    var reportedUnknown = Set<String>()
    /// What warming the duplicate tables read: kept so that the reads are not optimised away.
    private var warmed: UInt64 = 0

    init(builder: RowBuilder, body: @escaping (OrderRow) throws -> Void) {
        self.builder = builder
        self.body = body
    }

    mutating func add(_ raw: RawRow) throws {
        batch.rows.append(raw)
        if batch.rows.count >= OrderFileReader.batchSize { try submit() }
    }

    /// Adds a CSV record, copying its bytes into the batch.
    mutating func addRecord(_ record: CSVReader.Record, ordinal: Int) throws {
        let start = batch.bytes.count, firstEnd = batch.ends.count
        batch.bytes.append(contentsOf: record.bytes)
        batch.ends.append(contentsOf: record.ends)
        try add(.csv(bytes: start..<batch.bytes.count, ends: firstEnd..<batch.ends.count, line: record.line,
                     problems: record.problems, delimiter: record.delimiter, ordinal: ordinal))
    }

    /// Adds a JSON array element, copying its bytes into the batch.
    mutating func addElement(_ element: JSONArrayReader.Element) throws {
        let start = batch.bytes.count
        batch.bytes.append(contentsOf: element.bytes)
        try add(.jsonElement(bytes: start..<batch.bytes.count, line: element.line, column: element.column, index: element.index))
    }

    /// Adds an NDJSON line, copying its bytes into the batch.
    mutating func addLine(_ bytes: UnsafeBufferPointer<UInt8>, line: Int, ordinal: Int) throws {
        let start = batch.bytes.count
        batch.bytes.append(contentsOf: bytes)
        try add(.ndjsonLine(start..<batch.bytes.count, line: line, ordinal: ordinal))
    }

    /// Starts building the current batch, then delivers the oldest batches until at most
    /// ``BuildJob/depth`` are in flight.
    private mutating func submit() throws {
        guard !batch.rows.isEmpty else { return }
        let builder = self.builder
        inFlight.append(BuildJob(batch, builder: builder))
        batch = RawBatch()
        while inFlight.count > BuildJob.depth { try deliverOldest() }
    }

    /// Builds and delivers everything added so far.
    mutating func flush() throws {
        try submit()
        while !inFlight.isEmpty { try deliverOldest() }
    }

    private mutating func deliverOldest() throws {
        let job = inFlight.removeFirst()
        job.wait()
        defer { job.releaseOnWorker() }
        // Bring the duplicate tables' slots for the whole batch into the cache at once.
        var touched: UInt64 = 0
        for index in 0..<job.count {
            if let hash = job.output[index].idHash { touched ^= rowIDs.warm(hash: hash) }
            if let hash = job.output[index].keyHash { touched ^= keys.warm(hash: hash) }
        }
        warmed = touched
        for index in 0..<job.count {
            let built = job.output + index
            if let fatal = built.pointee.fatal { throw fatal }
            for name in built.pointee.unknownNames where reportedUnknown.insert(name).inserted {
                fileDiagnostic(line: built.pointee.row.position.line, field: name, message: builder.unknownColumnMessage(name, noun: "field"))
            }
            try deliver(&built.pointee)
        }
    }

    private mutating func deliver(_ built: inout BuiltRow) throws {
        let file = builder.file
        let line = built.row.position.line
        if let idHash = built.idHash, let idColumn = builder.options.idColumn,
           let earlier = rowIDs.insert(hash: idHash, line: line) {
            built.row.diagnostics.append(Diagnostic(file: file, line: line, field: idColumn,
                                                    message: "\"\(built.row.rowID.prefix(60))\" is also the id of the row on line \(earlier); ids must be unique"))
        }
        if let keyHash = built.keyHash, let key = built.row.request.key, let earlier = keys.insert(hash: keyHash, line: line) {
            built.row.diagnostics.append(Diagnostic(file: file, line: line, field: "key",
                                                    message: "\"\(key.prefix(60))\" is also the key of the row on line \(earlier); a key belongs to one license"))
        }
        summary.rows += 1
        var valid = true
        for diagnostic in built.row.diagnostics {
            if diagnostic.severity == .error { summary.errors += 1; valid = false } else { summary.warnings += 1 }
        }
        if valid {
            summary.validRows += 1
            summary.licenses += built.row.quantity
        }
        try body(built.row)
    }

    private mutating func fileDiagnostic(line: Int, field: String?, message: String, severity: Diagnostic.Severity = .error) {
        summary.fileDiagnostics.append(Diagnostic(file: builder.file, line: line, field: field, message: message, severity: severity))
        if severity == .error { summary.errors += 1 } else { summary.warnings += 1 }
    }

    mutating func finish() {
        if summary.rows == 0 {
            fileDiagnostic(line: builder.header == nil ? 1 : 2, field: nil, message: "the file has no rows; there is nothing to provision", severity: .warning)
        }
    }
}

extension RowBuilder {
    /// Builds a row into `slot` (uninitialised) with everything the delivery stage needs
    /// precomputed: the caller's ``IngestOptions/prepare`` for a valid row, the hashes for the
    /// duplicate checks. (In place: a built row is large, and copying it is not free.)
    mutating func build(_ raw: RawRow, _ storage: BatchStorage, into slot: UnsafeMutablePointer<BuiltRow>) {
        slot.initialize(to: build(raw, storage))
        guard slot.pointee.fatal == nil else { return }
        if let key = slot.pointee.row.request.key { slot.pointee.keyHash = DuplicateTracker.hash(key) }
        if options.idColumn != nil, slot.pointee.row.idIsFromColumn { slot.pointee.idHash = DuplicateTracker.hash(slot.pointee.row.rowID) }
        if let prepare = options.prepare, slot.pointee.row.isValid { slot.pointee.row.prepared = prepare(slot.pointee.row) }
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
                    for index in count * slice / slices ..< count * (slice + 1) / slices {
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

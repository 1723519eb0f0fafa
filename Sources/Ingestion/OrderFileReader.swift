import Dispatch

/// Reads an order file (CSV, JSON array or NDJSON) as a stream and hands each row over mapped and
/// validated, with every problem as a ``Diagnostic``.
///
/// The read is a three-stage pipeline over batches of rows:
/// 1. one thread splits the bytes into raw rows (CSV records, JSON elements, NDJSON lines);
/// 2. a batch of raw rows is parsed, mapped and validated on every core at once (each row alone);
/// 3. rows are handed over one by one in file order, after the checks that span rows (a key or a
///    row id used twice, an unknown field name reported once).
///
/// Nothing is kept per row but a hash of its key and id, so memory does not grow with the file
/// beyond those.
public struct OrderFileReader {
    public let path: String
    public let options: IngestOptions
    public let format: InputFormat
    private let mapper: RowMapper
    /// Rows per batch handed to the parallel stage.
    static let batchSize = 1024

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
        mapper = try RowMapper(file: path == "-" ? "<stdin>" : path, defaults: options.defaults)
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
                    pipeline.summary.fileDiagnostics += try pipeline.builder.readHeader(record)
                    pipeline.summary.errors += pipeline.summary.fileDiagnostics.count
                } else {
                    ordinal += 1
                    try pipeline.add(.csv(record, ordinal: ordinal))
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
                try reader.consume(chunk) { try pipeline.add(.jsonElement($0)) }
            }
            try pipeline.flush()
            try reader.finish()
        case .ndjson:
            var reader = NDJSONReader(file: file)
            var ordinal = 0
            let handle: (NDJSONReader.Line) throws -> Void = { line in
                ordinal += 1
                try pipeline.add(.ndjsonLine(line, ordinal: ordinal))
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
    case csv(CSVReader.Record, ordinal: Int)
    case jsonElement(JSONArrayReader.Element)
    case ndjsonLine(NDJSONReader.Line, ordinal: Int)
}

/// What the parallel stage made of a raw row.
enum BuiltRow: Sendable {
    /// A row, with the unknown field names it used (JSON only).
    case row(OrderRow, unknownNames: [String])
    /// The file cannot be read past this row.
    case fatal(IngestionError)
}

/// Stages 2 and 3: batches raw rows, builds them in parallel, delivers them in order.
private struct RowPipeline {
    var builder: RowBuilder
    let body: (OrderRow) throws -> Void
    var summary = IngestSummary()
    var batch: [RawRow] = []
    var keys = DuplicateTracker()
    var rowIDs = DuplicateTracker()
    var reportedUnknown = Set<String>()

    init(builder: RowBuilder, body: @escaping (OrderRow) throws -> Void) {
        self.builder = builder
        self.body = body
        batch.reserveCapacity(OrderFileReader.batchSize)
    }

    mutating func add(_ raw: RawRow) throws {
        batch.append(raw)
        if batch.count >= OrderFileReader.batchSize { try flush() }
    }

    mutating func flush() throws {
        guard !batch.isEmpty else { return }
        let builder = self.builder
        let prepare = builder.options.prepare
        var built = ParallelMap.map(batch) { raw in
            var result = builder.build(raw)
            // The caller's own per-row work runs here too, on every core, for valid rows.
            if let prepare, case .row(var row, let unknownNames) = result, row.isValid {
                row.prepared = prepare(row)
                result = .row(row, unknownNames: unknownNames)
            }
            return result
        }
        batch.removeAll(keepingCapacity: true)
        built.reverse()
        // popLast moves each row out of the array: no copy, no extra reference counting.
        while let result = built.popLast() {
            switch result {
            case .fatal(let error):
                throw error
            case .row(let row, let unknownNames):
                for name in unknownNames where reportedUnknown.insert(name).inserted {
                    fileDiagnostic(line: row.position.line, field: name, message: builder.unknownColumnMessage(name, noun: "field"))
                }
                try deliver(row)
            }
        }
    }

    private mutating func deliver(_ row: consuming OrderRow) throws {
        let file = builder.file
        if let idColumn = builder.options.idColumn, row.idIsFromColumn,
           let earlier = rowIDs.insert(row.rowID, line: row.position.line) {
            row.diagnostics.append(Diagnostic(file: file, line: row.position.line, field: idColumn,
                                              message: "\"\(row.rowID.prefix(60))\" is also the id of the row on line \(earlier); ids must be unique"))
        }
        if let key = row.request.key, let earlier = keys.insert(key, line: row.position.line) {
            row.diagnostics.append(Diagnostic(file: file, line: row.position.line, field: "key",
                                              message: "\"\(key.prefix(60))\" is also the key of the row on line \(earlier); a key belongs to one license"))
        }
        summary.rows += 1
        for diagnostic in row.diagnostics {
            if diagnostic.severity == .error { summary.errors += 1 } else { summary.warnings += 1 }
        }
        if row.isValid {
            summary.validRows += 1
            summary.licenses += row.quantity
        }
        try body(row)
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

/// Runs a transform over a batch on every core, keeping the order.
enum ParallelMap {
    static let workers = max(1, min(System.workerOverride ?? System.coreCount, 8))

    static func map<T: Sendable, R: Sendable>(_ items: [T], _ transform: @Sendable (T) -> R) -> [R] {
        let count = items.count
        let workers = count < 256 ? 1 : Self.workers
        if workers == 1 { return items.map(transform) }
        return [R](unsafeUninitializedCapacity: count) { buffer, initialized in
            // Each worker initialises its own disjoint slice of the buffer; no slot is touched twice.
            nonisolated(unsafe) let base = buffer.baseAddress!
            items.withUnsafeBufferPointer { source in
                nonisolated(unsafe) let input = source
                DispatchQueue.concurrentPerform(iterations: workers) { worker in
                    for index in count * worker / workers ..< count * (worker + 1) / workers {
                        (base + index).initialize(to: transform(input[index]))
                    }
                }
            }
            initialized = count
        }
    }
}

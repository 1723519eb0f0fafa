import Dispatch
import FileFormats
import Synchronization

/// Stages 2 and 3: batches raw rows, builds them on worker threads, delivers them in order.
struct RowPipeline {
    var builder: RowBuilder
    let body: (OrderRow) throws -> Void
    var summary = IngestSummary()
    var batch = RawBatch()
    /// Batches being built, oldest first.
    var inFlight: [BuildJob] = []
    var keys = DuplicateTracker()
    var rowIDs = DuplicateTracker()
    var reportedUnknown = Set<String>()
    var spellings = DirectorySpellings()
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
        let start = batch.bytes.count
        let firstEnd = batch.ends.count
        batch.bytes.append(contentsOf: record.bytes)
        batch.ends.append(contentsOf: record.ends)
        try add(
            .csv(
                bytes: start..<batch.bytes.count, ends: firstEnd..<batch.ends.count, line: record.line,
                problems: record.problems, delimiter: record.delimiter, ordinal: ordinal))
    }

    /// Adds a record of fields given as text (a workbook's row), as a CSV record would come.
    mutating func addFields(_ fields: [String], line: Int, problems: [CSVReader.Problem], ordinal: Int) throws {
        let start = batch.bytes.count
        let firstEnd = batch.ends.count
        for field in fields {
            batch.bytes.append(contentsOf: field.utf8)
            batch.ends.append(batch.bytes.count - start)
        }
        try add(
            .csv(
                bytes: start..<batch.bytes.count, ends: firstEnd..<batch.ends.count, line: line,
                problems: problems, delimiter: UInt8(ascii: ","), ordinal: ordinal))
    }

    /// Adds a JSON array element, copying its bytes into the batch.
    mutating func addElement(_ element: JSONArrayReader.Element) throws {
        let start = batch.bytes.count
        batch.bytes.append(contentsOf: element.bytes)
        try add(
            .jsonElement(
                bytes: start..<batch.bytes.count, line: element.line, column: element.column, index: element.index))
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
                fileDiagnostic(
                    line: built.pointee.row.position.line, field: name,
                    message: builder.unknownColumnMessage(name, noun: "field"))
            }
            try deliver(&built.pointee)
        }
    }

    private mutating func deliver(_ built: inout BuiltRow) throws {
        // A skipped row (not paid yet, not a license) is counted and handed on, with no check.
        if built.row.skipped != nil {
            summary.rows += 1
            summary.skipped += 1
            return try body(built.row)
        }
        let file = builder.file
        let line = built.row.position.line
        if let idHash = built.idHash, let idColumn = builder.options.idColumn,
            let earlier = rowIDs.insert(hash: idHash, line: line)
        {
            built.row.diagnostics.append(
                Diagnostic(
                    file: file, line: line, field: idColumn,
                    message:
                        "\"\(built.row.rowID.prefix(60))\" is also the id of the row on line \(earlier); ids must be unique"
                ))
        }
        if let keyHash = built.keyHash, let key = built.row.request.key,
            let earlier = keys.insert(hash: keyHash, line: line)
        {
            built.row.diagnostics.append(
                Diagnostic(
                    file: file, line: line, field: "key",
                    message:
                        "\"\(key.prefix(60))\" is also the key of the row on line \(earlier); a key belongs to one license"
                ))
        }
        if built.row.organization != nil || built.row.reseller != nil {
            built.row.diagnostics += spellings.check(built.row, file: file)
        }
        summary.rows += 1
        var valid = true
        for diagnostic in built.row.diagnostics {
            if diagnostic.severity == .error {
                summary.errors += 1
                valid = false
            } else {
                summary.warnings += 1
            }
        }
        if valid {
            summary.validRows += 1
            if built.row.action == .create { summary.licenses += built.row.quantity } else { summary.changes += 1 }
        }
        try body(built.row)
    }

    private mutating func fileDiagnostic(
        line: Int, field: String?, message: String, severity: Diagnostic.Severity = .error
    ) {
        summary.fileDiagnostics.append(
            Diagnostic(file: builder.file, line: line, field: field, message: message, severity: severity))
        if severity == .error { summary.errors += 1 } else { summary.warnings += 1 }
    }

    mutating func finish() {
        if summary.rows == 0 {
            fileDiagnostic(
                line: builder.header == nil ? 1 : 2, field: nil,
                message: "the file has no rows; there is nothing to provision", severity: .warning)
        }
    }
}

import Dispatch
import FileFormats
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
package struct OrderFileReader {
    package let path: String
    package let options: IngestOptions
    package let format: InputFormat
    private let mapper: RowMapper
    private let tables: [ResolvedTable]
    /// Rows per batch handed to the parallel stage. (A built row takes ~600 bytes before its
    /// strings; with the batches in flight and those waiting to be freed, 512 keeps the stage
    /// to a few megabytes.)
    static let batchSize = 512

    package init(path: String, options: IngestOptions) throws(IngestionError) {
        self.path = path
        self.options = options
        if let format = options.format {
            self.format = format
        } else if let dot = path.lastIndex(of: "."),
            let format = InputFormat(pathExtension: String(path[path.index(after: dot)...]))
        {
            self.format = format
        } else {
            throw .unknownFormat(file: path == "-" ? "<stdin>" : path)
        }
        let dates = DateReading(format: options.dateFormat, zone: options.timeZone)
        var mapper = try RowMapper(
            file: path == "-" ? "<stdin>" : path, defaults: options.defaults, dates: dates,
            defaultAction: options.action, targetMetadata: options.targetMetadata, idColumn: options.idColumn,
            markerKey: options.markerKey, keepIDAsMetadata: options.keepIDAsMetadata)
        mapper.quantityMeaning = options.quantityMeaning
        self.mapper = mapper
        var tables: [ResolvedTable] = []
        for table in options.valueTables {
            var resolved = try ResolvedTable(table, dates: dates)
            resolved.skipsUnlisted = options.skipUnlisted.contains(table.column)
            tables.append(resolved)
        }
        for column in options.skipUnlisted.sorted() where !options.valueTables.contains(where: { $0.column == column })
        {
            throw .badOption(
                "--skip-unlisted \(column): there is no [values.\(column)] table to say which of its values to read")
        }
        self.tables = tables
        try ColumnMapping.check(options.columnMap, idColumn: options.idColumn)
        if format == .xlsx && path == "-" {
            throw .badOption("an .xlsx workbook cannot be read from standard input: name the file")
        }
    }

    /// Reads the whole file, calling `body` with each row in file order.
    ///
    /// Throws ``IngestionError`` for a file that cannot be read at all; everything else is in the
    /// rows' diagnostics and the summary.
    @discardableResult
    package func read(_ body: (OrderRow) throws -> Void) throws -> IngestSummary {
        try withoutActuallyEscaping(body) { try read(escaping: $0) }
    }

    private func read(escaping body: @escaping (OrderRow) throws -> Void) throws -> IngestSummary {
        if format == .xlsx { return try readWorkbook(body) }
        if let from = options.source, from.isConverted(format) { return try readExport(from, body) }
        let source = try ByteChunkReader(path: path)
        let file = source.displayName
        var pipeline = RowPipeline(
            builder: RowBuilder(file: file, mapper: mapper, options: options, tables: tables), body: body)
        var sawBytes = false
        switch format {
        case .csv:
            var reader = CSVReader(file: file, delimiter: options.delimiter)
            var ordinal = 0
            // Lines grouped into orders, or an id made of columns (`--from shopify`): rows as text.
            var groups: LineGroups?
            let options = self.options
            let emit: (CSVReader.Decoded) throws -> Void = { row in
                ordinal += 1
                try pipeline.addFields(row.fields, line: row.line, problems: row.problems, ordinal: ordinal)
            }
            let handle: (CSVReader.Record) throws -> Void = { record in
                if pipeline.builder.header == nil {
                    let header = record.decoded()
                    groups = try Self.lineGroups(header: header, options: options, file: file)
                    pipeline.summary.fileDiagnostics += try pipeline.builder.readHeader(groups?.header ?? header)
                    pipeline.summary.errors += pipeline.summary.fileDiagnostics.count
                } else if groups != nil {
                    try groups!.add(record.decoded(), emit: emit)
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
            try groups?.finish(emit: emit)
        case .json:
            var reader = JSONArrayReader(file: file)
            try source.forEachChunk { chunk in
                sawBytes = true
                try reader.consume(chunk) { try pipeline.addElement($0) }
            }
            try pipeline.flush()
            try reader.finish()
        case .xlsx:
            break  // above
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

extension OrderFileReader {
    /// An `.xlsx` sheet: its rows become the records a CSV would have (the first row with a cell is
    /// the header; cells past a header are padded, empty rows skipped), named by their row number.
    private func readWorkbook(_ body: @escaping (OrderRow) throws -> Void) throws -> IngestSummary {
        let workbook = try XLSXReader(path: path, displayName: path, sheet: options.sheet)
        var builder = RowBuilder(file: path, mapper: mapper, options: options, tables: tables)
        builder.sheet = workbook.sheetName
        var pipeline = RowPipeline(builder: builder, body: body)
        var width = 0
        var ordinal = 0
        var groups: LineGroups?
        let options = self.options
        let emit: (CSVReader.Decoded) throws -> Void = { row in
            ordinal += 1
            try pipeline.addFields(row.fields, line: row.line, problems: row.problems, ordinal: ordinal)
        }
        try workbook.forEachRow { row in
            if pipeline.builder.header == nil {
                width = (row.cells.map(\.column).max() ?? -1) + 1
                var fields = [String](repeating: "", count: width)
                for (column, text) in row.cells { fields[column] = text }
                let decoded = CSVReader.Decoded(
                    fields: fields, line: row.number, problems: [], delimiter: UInt8(ascii: ","))
                groups = try Self.lineGroups(header: decoded, options: options, file: path)
                pipeline.summary.fileDiagnostics += try pipeline.builder.readHeader(groups?.header ?? decoded)
                pipeline.summary.errors += pipeline.summary.fileDiagnostics.count
                return
            }
            var fields = [String](repeating: "", count: width)
            var problems: [CSVReader.Problem] = []
            for (column, text) in row.cells {
                if column < width {
                    fields[column] = text
                } else {
                    problems.append(
                        .init(
                            fieldIndex: column + 1, line: row.number,
                            message:
                                "holds \"\(text.prefix(40))\" past the header's last column (\(XLSXReader.letters(width - 1))): give the column a header, or clear the cell"
                        ))
                }
            }
            for (column, error) in row.errors {
                problems.append(
                    .init(
                        fieldIndex: column + 1, line: row.number,
                        message: "holds the error value \(error): fix the formula or clear the cell"))
            }
            let decoded = CSVReader.Decoded(
                fields: fields, line: row.number, problems: problems, delimiter: UInt8(ascii: ","))
            if groups != nil { try groups!.add(decoded, emit: emit) } else { try emit(decoded) }
        }
        if pipeline.builder.header == nil { throw IngestionError.emptyFile(file: path) }
        try groups?.finish(emit: emit)
        try pipeline.flush()
        pipeline.finish()
        return pipeline.summary
    }
}

extension OrderFileReader {
    /// Another system's export (`--from`): each license converted to a JSON object and read as an
    /// NDJSON line would be.
    private func readExport(_ source: ExportSource, _ body: @escaping (OrderRow) throws -> Void) throws -> IngestSummary
    {
        let file = path == "-" ? "<stdin>" : path
        var pipeline = RowPipeline(
            builder: RowBuilder(file: file, mapper: mapper, options: options, tables: tables), body: body)
        var ordinal = 0
        try ExportRows.forEachRow(path: path, file: file, source: source) { line, object in
            ordinal += 1
            try object.withUnsafeBufferPointer { try pipeline.addLine($0, line: line, ordinal: ordinal) }
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
    case csv(
        bytes: Range<Int>, ends: Range<Int>, line: Int, problems: [CSVReader.Problem], delimiter: UInt8, ordinal: Int)
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
        row = OrderRow(
            position: SourcePosition(line: 0, ordinal: 0), rowID: "", request: .init(productId: ""), customer: nil,
            quantity: 1, diagnostics: [])
        self.fatal = fatal
    }
}

extension OrderFileReader {
    /// The grouping stage for `options` (nil: nothing grouped, no id composed); a line's quantity is
    /// the column that means `quantity` by the mapping.
    static func lineGroups(header: CSVReader.Decoded, options: IngestOptions, file: String) throws(IngestionError)
        -> LineGroups?
    {
        let patterns = ColumnMapping.patterns(options.columnMap)
        return try LineGroups.make(
            header: header, grouping: options.grouping, idColumns: options.idColumns, idColumn: options.idColumn,
            file: file
        ) { name in
            let meaning = ColumnMapping.meaning(of: name, map: options.columnMap, patterns: patterns) ?? name
            if case .quantity = ColumnTarget.resolve(meaning, policy: .ignore) { return true }
            return false
        }
    }
}

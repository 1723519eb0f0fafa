/// Reads an order file (CSV, JSON array or NDJSON) as a stream and hands each row over mapped and
/// validated, with every problem as a ``Diagnostic``.
///
/// Rows are checked one by one against the schema's constraints and against the rows before
/// them (a license key or a row id used twice). Nothing is kept per row but a hash of its key
/// and id, so memory does not grow with the file beyond those.
public struct OrderFileReader {
    public let path: String
    public let options: IngestOptions
    public let format: InputFormat
    private let mapper: RowMapper

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
        var state = ReadState(file: source.displayName, mapper: mapper, options: options, body: body)
        var sawBytes = false
        switch format {
        case .csv:
            var reader = CSVReader(file: source.displayName, delimiter: options.delimiter)
            try source.forEachChunk { chunk in
                sawBytes = true
                try reader.consume(chunk) { try state.csvRecord($0) }
            }
            guard sawBytes else { throw IngestionError.emptyFile(file: source.displayName) }
            try reader.finish { try state.csvRecord($0) }
            if state.header == nil { throw IngestionError.emptyFile(file: source.displayName) }
        case .json:
            var reader = JSONArrayReader(file: source.displayName)
            try source.forEachChunk { chunk in
                sawBytes = true
                try reader.consume(chunk) { element in
                    try state.jsonObject(element.value, line: element.line, ordinal: element.index, what: "element \(element.index)")
                }
            }
            try reader.finish()
        case .ndjson:
            var reader = NDJSONReader(file: source.displayName)
            var ordinal = 0
            let handle: (NDJSONReader.Line) throws -> Void = { line in
                ordinal += 1
                switch line.result {
                case .success(let value):
                    try state.jsonObject(value, line: line.line, ordinal: ordinal, what: "line \(line.line)")
                case .failure(let problem):
                    try state.unreadableRow(line: line.line, ordinal: ordinal, message: "column \(problem.column): not valid JSON: \(problem.reason)")
                }
            }
            try source.forEachChunk { chunk in
                sawBytes = true
                try reader.consume(chunk, emit: handle)
            }
            guard sawBytes else { throw IngestionError.emptyFile(file: source.displayName) }
            try reader.finish(emit: handle)
        }
        state.finish()
        return state.summary
    }
}

/// The mutable part of one read: the header plan, the duplicate trackers and the counts.
private struct ReadState {
    let file: String
    let mapper: RowMapper
    let options: IngestOptions
    let body: (OrderRow) throws -> Void
    var summary = IngestSummary()
    var header: [String]?
    var plan: [ColumnTarget] = []
    var idIndex: Int?
    var keys = DuplicateTracker()
    var rowIDs = DuplicateTracker()
    var jsonTargets: [String: ColumnTarget] = [:]
    var ordinal = 0

    init(file: String, mapper: RowMapper, options: IngestOptions, body: @escaping (OrderRow) throws -> Void) {
        self.file = file
        self.mapper = mapper
        self.options = options
        self.body = body
    }

    // MARK: CSV

    mutating func csvRecord(_ record: CSVReader.Record) throws {
        let delimiter = record.delimiter
        guard let header else {
            try readHeader(record, delimiter: delimiter)
            return
        }
        ordinal += 1
        let position = SourcePosition(line: record.line, ordinal: ordinal)
        var diagnostics = record.problems.map { problem in
            Diagnostic(file: file, line: problem.line, field: columnLabel(problem.fieldIndex), message: problem.message)
        }
        if record.fields.count != header.count {
            let more = record.fields.count > header.count
            diagnostics.append(Diagnostic(file: file, line: record.line, field: nil, message:
                "has \(record.fields.count) fields but the header has \(header.count); "
                + (more ? "a value may hold an unquoted \(Self.name(of: delimiter)) — put such values in quotes"
                        : "a value may be missing, or a quoted value may be cut short")))
            try deliver(OrderRow(position: position, rowID: rowID(from: idIndex.map { record.fields.indices.contains($0) ? record.fields[$0] : "" }, position: position, diagnostics: &diagnostics),
                                 request: .init(productId: ""), customer: nil, quantity: 1, diagnostics: diagnostics))
            return
        }
        var cells: [RowMapper.Placed] = []
        cells.reserveCapacity(plan.count)
        for (index, target) in plan.enumerated() {
            switch target {
            case .ignored, .unknown: continue
            default: cells.append(RowMapper.Placed(target: target, cell: .text(record.fields[index]), label: header[index]))
            }
        }
        let id = rowID(from: idIndex.map { record.fields[$0] }, position: position, diagnostics: &diagnostics)
        try deliver(mapper.map(cells, position: position, rowID: id, diagnostics: diagnostics))
    }

    private mutating func readHeader(_ record: CSVReader.Record, delimiter: UInt8) throws {
        if let problem = record.problems.first {
            throw IngestionError.badHeader(file: file, line: problem.line, reason: "column \(problem.fieldIndex): \(problem.message)")
        }
        let names = record.fields.map(\.trimmed)
        if names.count == 1, let only = names.first, ColumnTarget.resolve(only, policy: .error).identity == nil {
            for candidate in [";", "\t", "|", ","] where only.contains(candidate) && candidate != String(UnicodeScalar(delimiter)) {
                throw IngestionError.badHeader(file: file, line: record.line, reason:
                    "only one column was found (\"\(only.prefix(60))\"): the file seems to be separated by \(Self.name(of: UInt8(ascii: candidate.unicodeScalars.first!)))"
                    + "; pass --delimiter '\(candidate == "\t" ? "\\t" : candidate)'")
            }
        }
        var seen: [String: Int] = [:]
        var unknown: [String] = []
        for (index, name) in names.enumerated() {
            guard !name.isEmpty else {
                throw IngestionError.badHeader(file: file, line: record.line, reason: "column \(index + 1) has no name; name it or delete the column")
            }
            let target = name == options.idColumn && ColumnTarget.resolve(name, policy: .ignore).identity == nil
                ? .ignored : ColumnTarget.resolve(name, policy: options.unknownColumns)
            if let identity = target.identity ?? (name == options.idColumn ? name : nil) {
                if let earlier = seen[identity] {
                    throw IngestionError.badHeader(file: file, line: record.line, reason:
                        "columns \(earlier + 1) (\(names[earlier])) and \(index + 1) (\(name)) both set \(identity); keep one")
                }
                seen[identity] = index
            }
            if case .unknown = target { unknown.append(name) }
            plan.append(target)
        }
        if let idColumn = options.idColumn {
            guard let index = names.firstIndex(of: idColumn) else {
                throw IngestionError.badHeader(file: file, line: record.line, reason:
                    "there is no column named \"\(idColumn)\" for --id-column; the columns are: \(names.joined(separator: ", "))")
            }
            idIndex = index
        }
        let hasProduct = plan.contains { $0.identity == "productId" } || mapper.defaults.contains { $0.target.identity == "productId" }
        if !hasProduct {
            throw IngestionError.badHeader(file: file, line: record.line, reason:
                "no productId column; add one, or give every row the same product with --product-id")
        }
        for name in unknown { fileDiagnostic(line: record.line, field: name, message: unknownColumnMessage(name, noun: "column")) }
        header = names
    }

    private func columnLabel(_ index: Int) -> String {
        guard let header, header.indices.contains(index - 1) else { return "column \(index)" }
        return "column \(index) (\(header[index - 1]))"
    }

    // MARK: JSON and NDJSON

    mutating func jsonObject(_ value: JSONCell, line: Int, ordinal: Int, what: String) throws {
        self.ordinal = ordinal
        let position = SourcePosition(line: line, ordinal: ordinal)
        guard case .object(let members) = value else {
            try unreadableRow(line: line, ordinal: ordinal, message: "\(what) is \(value.kindDescription), not an object with license fields")
            return
        }
        var cells: [RowMapper.Placed] = []
        var idValue: String?
        var seen = Set<String>()
        var diagnostics: [Diagnostic] = []
        for (name, cell) in members {
            if name == options.idColumn {
                idValue = (try? CellParser.text(.json(cell)).get()) ?? ""
                if ColumnTarget.resolve(name, policy: .ignore).identity == nil { continue }
            }
            let target: ColumnTarget
            if let known = jsonTargets[name] {
                target = known
            } else {
                target = ColumnTarget.resolve(name, policy: options.unknownColumns)
                jsonTargets[name] = target
                if case .unknown = target { fileDiagnostic(line: line, field: name, message: unknownColumnMessage(name, noun: "field")) }
            }
            if let identity = target.identity, !seen.insert(identity).inserted {
                diagnostics.append(Diagnostic(file: file, line: line, field: name, message: "sets \(identity) a second time in the same object; keep one"))
            }
            cells.append(RowMapper.Placed(target: target, cell: .json(cell), label: name))
        }
        if options.idColumn != nil, idValue == nil { idValue = "" }
        let id = rowID(from: idValue, position: position, diagnostics: &diagnostics)
        try deliver(mapper.map(cells, position: position, rowID: id, diagnostics: diagnostics))
    }

    mutating func unreadableRow(line: Int, ordinal: Int, message: String) throws {
        self.ordinal = ordinal
        let position = SourcePosition(line: line, ordinal: ordinal)
        try deliver(OrderRow(position: position, rowID: "#\(ordinal)", request: .init(productId: ""), customer: nil, quantity: 1,
                             diagnostics: [Diagnostic(file: file, line: line, field: nil, message: message)]))
    }

    // MARK: shared

    private mutating func rowID(from value: String?, position: SourcePosition, diagnostics: inout [Diagnostic]) -> String {
        guard let idColumn = options.idColumn else { return "#\(position.ordinal)" }
        let id = value?.trimmed ?? ""
        if id.isEmpty {
            diagnostics.append(Diagnostic(file: file, line: position.line, field: idColumn, message: "is empty; every row needs its own \(idColumn) (it identifies the row across runs)"))
            return "#\(position.ordinal)"
        }
        return id
    }

    private mutating func deliver(_ row: consuming OrderRow) throws {
        if options.idColumn != nil, !row.rowID.hasPrefix("#") || row.diagnostics.isEmpty,
           let earlier = rowIDs.insert(row.rowID, line: row.position.line) {
            row.diagnostics.append(Diagnostic(file: file, line: row.position.line, field: options.idColumn,
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
        summary.fileDiagnostics.append(Diagnostic(file: file, line: line, field: field, message: message, severity: severity))
        if severity == .error { summary.errors += 1 } else { summary.warnings += 1 }
    }

    private func unknownColumnMessage(_ name: String, noun: String) -> String {
        let hint = ColumnTarget.suggestion(for: name).map { "did you mean \($0)? " } ?? ""
        return "is not a license field; \(hint)Rename the \(noun), or pass --unknown-columns metadata (send it as metadata) or --unknown-columns ignore"
    }

    mutating func finish() {
        if summary.rows == 0 {
            fileDiagnostic(line: header == nil ? 1 : 2, field: nil, message: "the file has no rows; there is nothing to provision", severity: .warning)
        }
    }

    static func name(of delimiter: UInt8) -> String {
        switch delimiter {
        case UInt8(ascii: ","): "commas (,)"
        case UInt8(ascii: ";"): "semicolons (;)"
        case UInt8(ascii: "\t"): "tabs"
        case UInt8(ascii: "|"): "bars (|)"
        default: "'\(UnicodeScalar(delimiter))'"
        }
    }
}

/// Turns one raw row into a mapped, validated ``OrderRow``: the per-row work, free of shared
/// state so that many rows can be built at once.
struct RowBuilder: Sendable {
    let file: String
    let mapper: RowMapper
    let options: IngestOptions
    /// The CSV header, once read.
    private(set) var header: [String]?
    private var plan: [ColumnTarget] = []
    private var idIndex: Int?
    /// Whether the id column is also a body field (`--id-column key`), and so is sent too.
    private let idColumnIsField: Bool

    init(file: String, mapper: RowMapper, options: IngestOptions) {
        self.file = file
        self.mapper = mapper
        self.options = options
        idColumnIsField = options.idColumn.map { ColumnTarget.resolve($0, policy: .ignore).identity != nil } ?? false
    }

    func build(_ raw: RawRow) -> BuiltRow {
        switch raw {
        case .csv(let record, let ordinal):
            return .row(buildCSV(record, ordinal: ordinal), unknownNames: [])
        case .jsonElement(let element):
            switch element.parse(file: file) {
            case .success(let value): return buildJSON(value, line: element.line, ordinal: element.index, what: "element \(element.index)")
            case .failure(let error): return .fatal(error)
            }
        case .ndjsonLine(let line, let ordinal):
            switch line.parse() {
            case .success(let value): return buildJSON(value, line: line.line, ordinal: ordinal, what: "line \(line.line)")
            case .failure(let problem):
                return .row(unreadable(line: line.line, ordinal: ordinal, message: "column \(problem.column): not valid JSON: \(problem.reason)"), unknownNames: [])
            }
        }
    }

    // MARK: CSV

    /// Reads the header: the column plan, or an error that stops the read. Returns the
    /// file-level problems (unknown columns).
    mutating func readHeader(_ record: CSVReader.Record) throws -> [Diagnostic] {
        let delimiter = record.delimiter
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
        var unknown: [Diagnostic] = []
        var plan: [ColumnTarget] = []
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
            if case .unknown = target {
                unknown.append(Diagnostic(file: file, line: record.line, field: name, message: unknownColumnMessage(name, noun: "column")))
            }
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
        self.plan = plan
        header = names
        return unknown
    }

    private func buildCSV(_ record: CSVReader.Record, ordinal: Int) -> OrderRow {
        let header = self.header ?? []
        let position = SourcePosition(line: record.line, ordinal: ordinal)
        var diagnostics = record.problems.map { problem in
            Diagnostic(file: file, line: problem.line, field: columnLabel(problem.fieldIndex), message: problem.message)
        }
        if record.fields.count != header.count {
            let more = record.fields.count > header.count
            diagnostics.append(Diagnostic(file: file, line: record.line, field: nil, message:
                "has \(record.fields.count) fields but the header has \(header.count); "
                + (more ? "a value may hold an unquoted \(Self.name(of: record.delimiter)) — put such values in quotes"
                        : "a value may be missing, or a quoted value may be cut short")))
            let id = rowID(from: idIndex.map { record.fields.indices.contains($0) ? record.fields[$0] : "" }, position: position, diagnostics: &diagnostics)
            return OrderRow(position: position, rowID: id.value, request: .init(productId: ""), customer: nil, quantity: 1, diagnostics: diagnostics)
        }
        var cells: [RowMapper.Placed] = []
        cells.reserveCapacity(plan.count)
        for (index, target) in plan.enumerated() {
            switch target {
            case .ignored, .unknown: continue
            default: cells.append(RowMapper.Placed(target: target, cell: .text(record.fields[index]), label: nil, column: index))
            }
        }
        let id = rowID(from: idIndex.map { record.fields[$0] }, position: position, diagnostics: &diagnostics)
        var row = mapper.map(cells, labels: header, position: position, rowID: id.value, diagnostics: diagnostics)
        row.idIsFromColumn = id.fromColumn
        return row
    }

    private func columnLabel(_ index: Int) -> String {
        guard let header, header.indices.contains(index - 1) else { return "column \(index)" }
        return "column \(index) (\(header[index - 1]))"
    }

    // MARK: JSON and NDJSON

    private func buildJSON(_ value: JSONCell, line: Int, ordinal: Int, what: String) -> BuiltRow {
        let position = SourcePosition(line: line, ordinal: ordinal)
        guard case .object(let members) = value else {
            return .row(unreadable(line: line, ordinal: ordinal, message: "\(what) is \(value.kindDescription), not an object with license fields"), unknownNames: [])
        }
        var cells: [RowMapper.Placed] = []
        cells.reserveCapacity(members.count)
        var idValue: String?
        var seen = SeenTargets()
        var unknown: [String] = []
        var diagnostics: [Diagnostic] = []
        for member in members {
            let name = member.name, cell = member.value
            if name == options.idColumn {
                idValue = (try? CellParser.text(.json(cell)).get()) ?? ""
                if !idColumnIsField { continue }
            }
            let target = ColumnTarget.resolve(name, policy: options.unknownColumns)
            if case .unknown = target { unknown.append(name) }
            if !seen.insert(target), let identity = target.identity {
                diagnostics.append(Diagnostic(file: file, line: line, field: name, message: "sets \(identity) a second time in the same object; keep one"))
            }
            cells.append(RowMapper.Placed(target: target, cell: .json(cell), label: name))
        }
        if options.idColumn != nil, idValue == nil { idValue = "" }
        let id = rowID(from: idValue, position: position, diagnostics: &diagnostics)
        var row = mapper.map(cells, position: position, rowID: id.value, diagnostics: diagnostics)
        row.idIsFromColumn = id.fromColumn
        return .row(row, unknownNames: unknown)
    }

    private func unreadable(line: Int, ordinal: Int, message: String) -> OrderRow {
        OrderRow(position: SourcePosition(line: line, ordinal: ordinal), rowID: "#\(ordinal)", request: .init(productId: ""), customer: nil, quantity: 1,
                 diagnostics: [Diagnostic(file: file, line: line, field: nil, message: message)])
    }

    // MARK: shared

    /// The row's identity: the id column's value, or the position stand-in `#N` when there is no
    /// id column or the row's id is empty (an error).
    private func rowID(from value: String?, position: SourcePosition, diagnostics: inout [Diagnostic]) -> (value: String, fromColumn: Bool) {
        guard let idColumn = options.idColumn else { return ("#\(position.ordinal)", false) }
        let id = value?.trimmed ?? ""
        if id.isEmpty {
            diagnostics.append(Diagnostic(file: file, line: position.line, field: idColumn, message: "is empty; every row needs its own \(idColumn) (it identifies the row across runs)"))
            return ("#\(position.ordinal)", false)
        }
        return (id, true)
    }

    func unknownColumnMessage(_ name: String, noun: String) -> String {
        let hint = ColumnTarget.suggestion(for: name).map { "did you mean \($0)? " } ?? ""
        return "is not a license field; \(hint)Rename the \(noun), or pass --unknown-columns metadata (send it as metadata) or --unknown-columns ignore"
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

/// The targets one JSON object has set so far: a bit per body field, customer field and quantity
/// (no strings made or compared), and the metadata keys by name.
struct SeenTargets {
    private var bits: (UInt64, UInt64) = (0, 0)
    private var metadataKeys: [String] = []

    /// Records `target`; false when it was set before.
    mutating func insert(_ target: ColumnTarget) -> Bool {
        let bit: Int
        switch target {
        case .field(let index): bit = index
        case .customer(let field): bit = 100 + (ColumnTarget.CustomerField.allCases.firstIndex(of: field) ?? 0)
        case .quantity: bit = 110
        case .metadataKey(let key):
            if metadataKeys.contains(key) { return false }
            metadataKeys.append(key)
            return true
        case .ignored, .unknown: return true
        }
        if bit < 64 {
            let mask: UInt64 = 1 << UInt64(bit)
            defer { bits.0 |= mask }
            return bits.0 & mask == 0
        }
        let mask: UInt64 = 1 << UInt64(bit - 64)
        defer { bits.1 |= mask }
        return bits.1 & mask == 0
    }
}

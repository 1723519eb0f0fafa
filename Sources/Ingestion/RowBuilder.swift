#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Turns one raw row into a mapped, validated ``OrderRow``: the per-row work, free of shared
/// state so that many rows can be built at once.
struct RowBuilder: Sendable {
    private(set) var file: String
    private(set) var mapper: RowMapper
    private(set) var options: IngestOptions
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

    /// A copy that shares no string or array with this one. Each worker builds with its own copy:
    /// the per-row code copies and releases these values, and a reference count that two cores
    /// update at once costs far more than one that stays in one core's cache.
    func unshared() -> RowBuilder {
        var copy = self
        copy.file = file.unshared
        copy.mapper = mapper.unshared()
        copy.options.idColumn = options.idColumn?.unshared
        copy.options.defaults = options.defaults.map { ($0.unshared, $1.unshared) }
        copy.header = header?.map(\.unshared)
        copy.plan = plan.map(\.unshared)
        return copy
    }

    /// Builds one row; `storage` is the batch's buffers that the raw row points into.
    ///
    /// `mutating` though it changes nothing: closures then reach the builder through its address,
    /// where on a `let` builder each closure over `self` would copy the whole builder, per row.
    mutating func build(_ raw: RawRow, _ storage: BatchStorage) -> BuiltRow {
        switch raw {
        case .csv(let bytes, let ends, let line, let problems, let delimiter, let ordinal):
            let record = CSVReader.Record(bytes: UnsafeBufferPointer(rebasing: storage.bytes[bytes]), ends: UnsafeBufferPointer(rebasing: storage.ends[ends]),
                                          line: line, problems: problems, delimiter: delimiter)
            return BuiltRow(row: buildCSV(record.decoded(), ordinal: ordinal))
        case .jsonElement(let bytes, let line, let column, let index):
            let element = JSONArrayReader.Element(bytes: UnsafeBufferPointer(rebasing: storage.bytes[bytes]), line: line, column: column, index: index)
            let file = self.file
            return buildJSON(element.bytes, line: line, ordinal: index, what: "element \(index)") { failure in
                .fatal(element.error(for: failure, file: file))
            }
        case .ndjsonLine(let range, let line, let ordinal):
            return buildJSON(UnsafeBufferPointer(rebasing: storage.bytes[range]), line: line, ordinal: ordinal, what: "line \(line)") { failure in
                .unreadable("column \(failure.offset + 1): not valid JSON: \(failure.reason)")
            }
        }
    }

    // MARK: CSV

    /// Reads the header: the column plan, or an error that stops the read. Returns the
    /// file-level problems (unknown columns).
    mutating func readHeader(_ record: CSVReader.Decoded) throws -> [Diagnostic] {
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
            let target: ColumnTarget = name == options.idColumn && ColumnTarget.resolve(name, policy: .ignore).identity == nil
                ? .ignored
                : name == options.targetMetadata && ColumnTarget.resolve(name, policy: .ignore).identity == nil
                    ? .metadataKey(name) : ColumnTarget.resolve(name, policy: options.unknownColumns)
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
        // A file of changes needs no product (a row that creates is still checked for one).
        let mayChange = plan.contains { $0.identity == "action" } || options.action != .create
        if !hasProduct && !mayChange {
            throw IngestionError.badHeader(file: file, line: record.line, reason:
                "no productId column; add one, or give every row the same product with --product-id")
        }
        self.plan = plan
        header = names
        return unknown
    }

    private func buildCSV(_ record: CSVReader.Decoded, ordinal: Int) -> OrderRow {
        // Indexes, not `for … in`: iterating copies the array, and a copy of an array every worker
        // shares is a reference count bounced between cores on every row.
        let headerCount = header?.count ?? 0
        let position = SourcePosition(line: record.line, ordinal: ordinal)
        var diagnostics = record.problems.map { problem in
            Diagnostic(file: file, line: problem.line, field: columnLabel(problem.fieldIndex), message: problem.message)
        }
        if record.fields.count != headerCount {
            let more = record.fields.count > headerCount
            diagnostics.append(Diagnostic(file: file, line: record.line, field: nil, message:
                "has \(record.fields.count) fields but the header has \(headerCount); "
                + (more ? "a value may hold an unquoted \(Self.name(of: record.delimiter)) — put such values in quotes"
                        : "a value may be missing, or a quoted value may be cut short")))
            let id = rowID(from: idIndex.map { record.fields.indices.contains($0) ? record.fields[$0] : "" }, position: position, diagnostics: &diagnostics)
            return OrderRow(position: position, rowID: id.value, request: .init(productId: ""), customer: nil, quantity: 1, diagnostics: diagnostics)
        }
        let id = rowID(from: idIndex.map { record.fields[$0] }, position: position, diagnostics: &diagnostics)
        var assembly = mapper.start(position: position)
        (header ?? []).withUnsafeBufferPointer { names in
            for index in 0..<plan.count {
                switch plan[index] {
                case .ignored, .unknown: continue
                // (The label is read from `names`: a closure over `self` would copy the builder.)
                default: mapper.place(plan[index], .text(record.fields[index]), label: names[index], into: &assembly)
                }
            }
        }
        return mapper.finish(&assembly, rowID: id.value, idIsFromColumn: id.fromColumn, leading: diagnostics)
    }

    private func columnLabel(_ index: Int) -> String {
        guard let header, header.indices.contains(index - 1) else { return "column \(index)" }
        return "column \(index) (\(header[index - 1]))"
    }

    // MARK: JSON and NDJSON

    /// What to make of JSON that does not parse: a row that reports it (NDJSON, where the next
    /// line starts afresh), or the end of the read (a JSON array cannot be followed past it).
    enum Unparsable {
        case unreadable(String)
        case fatal(IngestionError)
    }

    /// Parses a JSON object and maps its members as they are read (names are resolved from
    /// their bytes; a string is made only for a name that is not spelt as the schema spells it).
    private mutating func buildJSON(_ bytes: UnsafeBufferPointer<UInt8>, line: Int, ordinal: Int, what: @autoclosure () -> String,
                           unparsable: (JSONCellParser.Failure) -> Unparsable) -> BuiltRow {
        let position = SourcePosition(line: line, ordinal: ordinal)
        var assembly = mapper.start(position: position)
        var idValue: String?
        var seen = SeenTargets()
        var unknown: [String] = []
        var diagnostics: [Diagnostic] = []
        let parsed = JSONCellParser.parseMembers(bytes) { name, cell in
            if let idColumn = options.idColumn, Self.spells(idColumn, name) {
                idValue = (try? CellParser.text(.json(cell)).get()) ?? ""
                if !idColumnIsField { return }
            }
            let target: ColumnTarget
            if let exact = ColumnTarget.exact(name) {
                target = exact
            } else {
                let text = String(decoding: name, as: UTF8.self)
                target = ColumnTarget.resolve(text, policy: options.unknownColumns)
                if case .unknown = target { unknown.append(text) }
            }
            if !seen.insert(target), let identity = target.identity {
                diagnostics.append(Diagnostic(file: file, line: line, field: String(decoding: name, as: UTF8.self),
                                              message: "sets \(identity) a second time in the same object; keep one"))
            }
            mapper.place(target, .json(cell), label: String(decoding: name, as: UTF8.self), into: &assembly)
        }
        switch parsed {
        case .failure(let failure):
            switch unparsable(failure) {
            case .unreadable(let message): return BuiltRow(row: unreadable(line: line, ordinal: ordinal, message: message))
            case .fatal(let error): return BuiltRow(fatal: error)
            }
        case .success(let value?):
            return BuiltRow(row: unreadable(line: line, ordinal: ordinal, message: "\(what()) is \(value.kindDescription), not an object with license fields"))
        case .success(nil):
            break
        }
        if options.idColumn != nil, idValue == nil { idValue = "" }
        let id = rowID(from: idValue, position: position, diagnostics: &diagnostics)
        return BuiltRow(row: mapper.finish(&assembly, rowID: id.value, idIsFromColumn: id.fromColumn, leading: diagnostics), unknownNames: unknown)
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

    /// Whether `bytes` spell `name` exactly.
    static func spells(_ name: String, _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var name = name
        return name.withUTF8 { own in own.count == bytes.count && (own.isEmpty || memcmp(own.baseAddress!, bytes.baseAddress!, own.count) == 0) }
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
        case .customer(let field): bit = 100 + field.ordinal
        case .quantity: bit = 110
        case .action: bit = 111
        case .licenseId: bit = 112
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

import FileFormats

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
    var plan: [ColumnTarget] = []
    var idIndex: Int?
    /// Whether the id column is also a body field (`--id-column key`), and so is sent too.
    let idColumnIsField: Bool
    /// The value tables, and (CSV, XLSX) the column each is keyed on.
    var tables: [ResolvedTable]
    private var tableColumns: [Int] = []
    /// (CSV, XLSX) the column that sets each target, for the tables' "the row wins" rule.
    private var columnByIdentity: [String: Int] = [:]
    /// `.xlsx`: the sheet, for problems named by cell (`Orders!D7`).
    var sheet: String?
    /// The mapping's patterns (`"* (metadata)" = "metadata.*"`), made once.
    let columnPatterns: [ColumnMapping.Pattern]

    init(file: String, mapper: RowMapper, options: IngestOptions, tables: [ResolvedTable] = []) {
        self.file = file
        self.mapper = mapper
        self.options = options
        // What each table's column sets (JSON: by its name or mapping; CSV: again from the header).
        self.tables = tables.map { table in
            var table = table
            table.prepare(
                keyIdentity: ColumnTarget.resolve(options.columnMap[table.column] ?? table.column, policy: .ignore)
                    .identity)
            return table
        }
        columnPatterns = ColumnMapping.patterns(options.columnMap)
        let idTarget = options.idColumn.map { ColumnTarget.resolve($0, policy: .ignore) }
        idColumnIsField = idTarget?.identity != nil
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
        copy.options.columnMap = Dictionary(uniqueKeysWithValues: options.columnMap.map { ($0.unshared, $1.unshared) })
        copy.sheet = sheet?.unshared
        copy.tables = tables.map { $0.unshared() }
        return copy
    }

    /// Builds one row; `storage` is the batch's buffers that the raw row points into.
    ///
    /// `mutating` though it changes nothing: closures then reach the builder through its address,
    /// where on a `let` builder each closure over `self` would copy the whole builder, per row.
    mutating func build(_ raw: RawRow, _ storage: BatchStorage) -> BuiltRow {
        switch raw {
        case .csv(let bytes, let ends, let line, let problems, let delimiter, let ordinal):
            let record = CSVReader.Record(
                bytes: UnsafeBufferPointer(rebasing: storage.bytes[bytes]),
                ends: UnsafeBufferPointer(rebasing: storage.ends[ends]),
                line: line, problems: problems, delimiter: delimiter)
            return BuiltRow(row: buildCSV(record.decoded(), ordinal: ordinal))
        case .jsonElement(let bytes, let line, let column, let index):
            let element = JSONArrayReader.Element(
                bytes: UnsafeBufferPointer(rebasing: storage.bytes[bytes]), line: line, column: column, index: index)
            let file = self.file
            return buildJSON(element.bytes, line: line, ordinal: index, what: "element \(index)") { failure in
                .fatal(element.error(for: failure, file: file))
            }
        case .ndjsonLine(let range, let line, let ordinal):
            return buildJSON(
                UnsafeBufferPointer(rebasing: storage.bytes[range]), line: line, ordinal: ordinal, what: "line \(line)"
            ) { failure in
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
            throw IngestionError.badHeader(
                file: file, line: problem.line, reason: "column \(problem.fieldIndex): \(problem.message)")
        }
        let names = record.fields.map(\.trimmed)
        if names.count == 1, let only = names.first, ColumnTarget.resolve(only, policy: .error).identity == nil {
            for candidate in [";", "\t", "|", ","]
            where only.contains(candidate) && candidate != String(UnicodeScalar(delimiter)) {
                throw IngestionError.badHeader(
                    file: file, line: record.line,
                    reason:
                        "only one column was found (\"\(only.prefix(60))\"): the file seems to be separated by \(Self.name(of: UInt8(ascii: candidate.unicodeScalars.first!)))"
                        + "; pass --delimiter '\(candidate == "\t" ? "\\t" : candidate)'")
            }
        }
        if options.source == nil, let source = ExportSource.recognize(names) {
            throw IngestionError.badHeader(file: file, line: record.line, reason: source.recognizedHint)
        }
        // The column mapping: each source must be a column of the file, no two may mean the same
        // (a pattern's, "* (metadata)", may match none).
        let columnMap = options.columnMap
        let patterns = ColumnMapping.patterns(columnMap)
        for source in columnMap.keys.sorted() where !names.contains(source) && !source.contains("*") {
            throw IngestionError.badHeader(
                file: file, line: record.line,
                reason:
                    "the column mapping names \"\(source)\" (→ \(columnMap[source]!)), which the file does not have; its columns are: \(names.joined(separator: ", "))"
            )
        }
        let meaning = names.map { ColumnMapping.meaning(of: $0, map: columnMap, patterns: patterns) ?? $0 }
        var seen: [String: Int] = [:]
        var unknown: [Diagnostic] = []
        var plan: [ColumnTarget] = []
        for (index, name) in names.enumerated() {
            guard !name.isEmpty else {
                throw IngestionError.badHeader(
                    file: file, line: record.line,
                    reason: "column \(index + 1) has no name; name it or delete the column")
            }
            let mapped = meaning[index]
            var target: ColumnTarget =
                mapped == options.idColumn && ColumnTarget.resolve(mapped, policy: .ignore).identity == nil
                ? .ignored
                : mapped == options.targetMetadata && ColumnTarget.resolve(mapped, policy: .ignore).identity == nil
                    ? .metadataKey(mapped) : ColumnTarget.resolve(mapped, policy: options.unknownColumns)
            // A column that only keys a value table is read by the table; one that groups lines or
            // makes the id, by that.
            if case .unknown = target,
                tables.contains(where: { $0.column == name || $0.column == mapped })
                    || options.grouping?.column == name || options.idColumns.contains(name)
            {
                target = .ignored
            }
            if let identity = target.identity ?? (mapped == options.idColumn ? mapped : nil) {
                if let earlier = seen[identity] {
                    let via = { (column: Int) in
                        meaning[column] == names[column] ? names[column] : "\(names[column]) → \(meaning[column])"
                    }
                    throw IngestionError.badHeader(
                        file: file, line: record.line,
                        reason:
                            "columns \(earlier + 1) (\(via(earlier))) and \(index + 1) (\(via(index))) both set \(identity); keep one"
                    )
                }
                seen[identity] = index
            }
            if case .unknown = target {
                unknown.append(
                    Diagnostic(
                        file: file, line: record.line, field: name, message: unknownColumnMessage(name, noun: "column"))
                )
            }
            plan.append(target)
        }
        if let idColumn = options.idColumn {
            guard let index = meaning.firstIndex(of: idColumn) else {
                throw IngestionError.badHeader(
                    file: file, line: record.line,
                    reason:
                        "there is no column named \"\(idColumn)\" for --id-column; the columns are: \(names.joined(separator: ", "))"
                        + (columnMap.isEmpty ? "" : " (mapped: \(meaning.joined(separator: ", ")))"))
            }
            idIndex = index
        }
        // The value tables' columns, by the name the file has or the name it is mapped to.
        tableColumns = []
        for index in tables.indices {
            guard
                let column = names.firstIndex(of: tables[index].column) ?? meaning.firstIndex(of: tables[index].column)
            else {
                throw IngestionError.badHeader(
                    file: file, line: record.line,
                    reason:
                        "[values.\(tables[index].column)] names a column the file does not have; its columns are: \(names.joined(separator: ", "))"
                )
            }
            tableColumns.append(column)
            tables[index].prepare(keyIdentity: plan[column].identity) { seen[$0] }
        }
        columnByIdentity = seen
        let hasProduct =
            plan.contains { $0.identity == "productId" }
            || mapper.defaults.contains { $0.target.identity == "productId" }
            || tables.contains { $0.sets("productId") }
        // A file of changes needs no product (a row that creates is still checked for one).
        let mayChange = plan.contains { $0.identity == "action" } || options.action != .create
        if !hasProduct && !mayChange {
            throw IngestionError.badHeader(
                file: file, line: record.line,
                reason:
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
            diagnostics.append(
                Diagnostic(
                    file: file, line: record.line, field: nil,
                    message:
                        "has \(record.fields.count) fields but the header has \(headerCount); "
                        + (more
                            ? "a value may hold an unquoted \(Self.name(of: record.delimiter)) — put such values in quotes"
                            : "a value may be missing, or a quoted value may be cut short")))
            let id = rowID(
                from: idIndex.map { record.fields.indices.contains($0) ? record.fields[$0] : "" }, position: position,
                diagnostics: &diagnostics)
            return OrderRow(
                position: position, rowID: id.value, request: .init(productId: ""), customer: nil, quantity: 1,
                diagnostics: diagnostics)
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
        if !tables.isEmpty {
            // Locals: a closure over `self` would copy the builder, per row.
            let fields = record.fields
            let columns = tableColumns
            mapper.applyTables(
                tables, key: { fields[columns[$0]] }, own: { $0.ownColumn.map { fields[$0] } }, into: &assembly)
        }
        var row = mapper.finish(&assembly, rowID: id.value, idIsFromColumn: id.fromColumn, leading: diagnostics)
        if let sheet { locate(&row.diagnostics, sheet: sheet) }
        return row
    }

    /// Names each problem by its cell (`Orders!D7`), or by its row when it is not one column's.
    private func locate(_ diagnostics: inout [Diagnostic], sheet: String) {
        guard !diagnostics.isEmpty else { return }
        let quoted =
            sheet.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" }
            ? sheet : "'\(sheet.replacingOccurrences(of: "'", with: "''"))'"
        for index in diagnostics.indices {
            let line = diagnostics[index].line
            var column: Int?
            if let field = diagnostics[index].field {
                column = header?.firstIndex(of: field) ?? columnByIdentity[field]
                if column == nil, field.hasPrefix("column "),
                    let number = Int(field.dropFirst(7).prefix { $0.isNumber })
                {
                    column = number - 1
                }
            }
            diagnostics[index].cell = "\(quoted)!" + (column.map { XLSXReader.letters($0) } ?? "") + String(line)
        }
    }

    private func columnLabel(_ index: Int) -> String {
        guard let header, header.indices.contains(index - 1) else { return "column \(index)" }
        return "column \(index) (\(header[index - 1]))"
    }

    // MARK: shared

    /// The row's identity: the id column's value, or the position stand-in `#N` when there is no
    /// id column or the row's id is empty (an error).
    func rowID(from value: String?, position: SourcePosition, diagnostics: inout [Diagnostic]) -> (
        value: String, fromColumn: Bool
    ) {
        guard let idColumn = options.idColumn else { return ("#\(position.ordinal)", false) }
        let id = value?.trimmed ?? ""
        if id.isEmpty {
            diagnostics.append(
                Diagnostic(
                    file: file, line: position.line, field: idColumn,
                    message: "is empty; every row needs its own \(idColumn) (it identifies the row across runs)"))
            return ("#\(position.ordinal)", false)
        }
        return (id, true)
    }

    func unknownColumnMessage(_ name: String, noun: String) -> String {
        let hint = ColumnTarget.suggestion(for: name).map { "did you mean \($0)? " } ?? ""
        return
            "is not a license field; \(hint)map it (--map '\(name)=FIELD', or [columns] in a profile), rename the \(noun), "
            + "or pass --unknown-columns metadata (send it as metadata) or --unknown-columns ignore"
    }

    /// Whether `bytes` spell `name` exactly.
    static func spells(_ name: String, _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var name = name
        return name.withUTF8 { own in
            own.count == bytes.count && (own.isEmpty || memcmp(own.baseAddress!, bytes.baseAddress!, own.count) == 0)
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

import FileFormats

/// JSON and NDJSON rows: an object parsed and mapped member by member as it is read.
extension RowBuilder {
    /// What to make of JSON that does not parse: a row that reports it (NDJSON, where the next
    /// line starts afresh), or the end of the read (a JSON array cannot be followed past it).
    enum Unparsable {
        case unreadable(String)
        case fatal(IngestionError)
    }

    /// Parses a JSON object and maps its members as they are read (names are resolved from
    /// their bytes; a string is made only for a name that is not spelt as the schema spells it).
    mutating func buildJSON(
        _ bytes: UnsafeBufferPointer<UInt8>, line: Int, ordinal: Int, what: @autoclosure () -> String,
        unparsable: (JSONCellParser.Failure) -> Unparsable
    ) -> BuiltRow {
        let position = SourcePosition(line: line, ordinal: ordinal)
        var assembly = mapper.start(position: position)
        var idValue: String?
        var seen = SeenTargets()
        var unknown: [String] = []
        var diagnostics: [Diagnostic] = []
        var tableKeys = [String?](repeating: nil, count: tables.count)
        var own: [String: String] = [:]
        let columnMap = options.columnMap
        let patterns = columnPatterns
        let tables = self.tables
        let auxiliary = options.source.map(ExportRows.auxiliaryColumns) ?? []
        let parsed = JSONCellParser.parseMembers(bytes) { name, cell in
            // A mapped member means what the mapping says (a string is made only with a mapping).
            let mapped =
                columnMap.isEmpty
                ? nil
                : ColumnMapping.meaning(of: String(decoding: name, as: UTF8.self), map: columnMap, patterns: patterns)
            if let idColumn = options.idColumn, mapped.map({ $0 == idColumn }) ?? Self.spells(idColumn, name) {
                idValue = (try? CellParser.text(.json(cell)).get()) ?? ""
                if !idColumnIsField { return }
            }
            var keyedTable = false
            if !tables.isEmpty {
                let source = String(decoding: name, as: UTF8.self)
                for index in tables.indices where tables[index].column == source || tables[index].column == mapped {
                    tableKeys[index] = (try? CellParser.text(.json(cell)).get()) ?? ""
                    keyedTable = true
                }
            }
            var target: ColumnTarget
            if let mapped {
                target = ColumnTarget.resolve(mapped, policy: options.unknownColumns)
                if case .unknown = target, !keyedTable { unknown.append(String(decoding: name, as: UTF8.self)) }
            } else if let exact = ColumnTarget.exact(name) {
                target = exact
            } else {
                let text = String(decoding: name, as: UTF8.self)
                target = ColumnTarget.resolve(text, policy: options.unknownColumns)
                if case .unknown = target, !keyedTable { unknown.append(text) }
            }
            if case .unknown = target, keyedTable || auxiliary.contains(String(decoding: name, as: UTF8.self)) {
                if !keyedTable { unknown.removeLast() }
                target = .ignored
            }
            if !tables.isEmpty, let identity = target.identity, let text = try? CellParser.text(.json(cell)).get() {
                own[identity] = text
            }
            if !seen.insert(target), let identity = target.identity {
                diagnostics.append(
                    Diagnostic(
                        file: file, line: line, field: String(decoding: name, as: UTF8.self),
                        message: "sets \(identity) a second time in the same object; keep one"))
            }
            mapper.place(target, .json(cell), label: String(decoding: name, as: UTF8.self), into: &assembly)
        }
        switch parsed {
        case .failure(let failure):
            switch unparsable(failure) {
            case .unreadable(let message):
                return BuiltRow(row: unreadable(line: line, ordinal: ordinal, message: message))
            case .fatal(let error): return BuiltRow(fatal: error)
            }
        case .success(let value?):
            return BuiltRow(
                row: unreadable(
                    line: line, ordinal: ordinal,
                    message: "\(what()) is \(value.kindDescription), not an object with license fields"))
        case .success(nil):
            break
        }
        if !tables.isEmpty {
            mapper.applyTables(tables, key: { tableKeys[$0] }, own: { own[$0.identity] }, into: &assembly)
        }
        if options.idColumn != nil, idValue == nil { idValue = "" }
        let id = rowID(from: idValue, position: position, diagnostics: &diagnostics)
        return BuiltRow(
            row: mapper.finish(&assembly, rowID: id.value, idIsFromColumn: id.fromColumn, leading: diagnostics),
            unknownNames: unknown)
    }

    func unreadable(line: Int, ordinal: Int, message: String) -> OrderRow {
        OrderRow(
            position: SourcePosition(line: line, ordinal: ordinal), rowID: "#\(ordinal)", request: .init(productId: ""),
            customer: nil, quantity: 1,
            diagnostics: [Diagnostic(file: file, line: line, field: nil, message: message)])
    }
}

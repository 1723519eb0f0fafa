/// Lines grouped into the order they belong to, by a column (`[group] by = "Name"`): an export
/// such as Shopify's writes an order's own columns (email, status, billing name) on its first line
/// only; those named in `fillDown` are copied to the order's other lines where they are empty.
package struct LineGrouping: Sendable, Equatable {
    package var column: String
    /// The columns copied down (empty: every column not matched by `ownPrefixes`).
    package var fillDown: [String]
    /// With an empty `fillDown`: the columns that are each line's own (never copied), by prefix.
    package var ownPrefixes: [String]

    package init(column: String, fillDown: [String] = [], ownPrefixes: [String] = []) {
        self.column = column
        self.fillDown = fillDown
        self.ownPrefixes = ownPrefixes
    }
}

/// An export's lines read together as the orders they belong to, before they are mapped
/// (Ingestion's `IngestOptions.grouping` and `idColumns`; `--from shopify`):
///
/// - lines are grouped by a column (`Name`, the order): the group's own columns, which such an
///   export writes on its first line only, are copied down to its other lines where empty;
/// - a row's id can be made of several columns, joined with `/` (`#1001/DESK-PRO-1Y`), as a column
///   of its own named by `--id-column`; within a group, lines with one id are one row (the same SKU
///   twice in an order), their quantities added.
///
/// An order's lines must be together, as exports write them: a group that comes back after
/// another is an error of its line, not merged silently. Only the current group is held.
package struct LineGroups {
    /// The header the rows are read with: the file's, plus the composed id column when there is one.
    package let header: CSVReader.Decoded
    private let groupIndex: Int?
    /// The columns a group's first line gives its other lines.
    private let fillIndexes: [Int]
    private let idIndexes: [Int]
    private let quantityIndex: Int?
    private let groupColumn: String
    private var group: [CSVReader.Decoded] = []
    private var groupKey: String?
    private var groupLine = 0
    /// Where each group began (to say so when one comes back).
    private var seen: [String: Int] = [:]

    /// The stage for a file whose header is `header`: lines grouped by `grouping`, and an id made
    /// of `idColumns` into the column `idColumn`; `isQuantity` says which column holds a line's
    /// quantity (by its name). Nil when nothing is grouped and no id composed.
    package static func make(
        header: CSVReader.Decoded, grouping: LineGrouping?, idColumns: [String], idColumn: String?, file: String,
        isQuantity: (String) -> Bool
    ) throws(IngestionError) -> LineGroups? {
        guard grouping != nil || !idColumns.isEmpty else { return nil }
        return try LineGroups(
            header: header, grouping: grouping, idColumns: idColumns, idColumn: idColumn, file: file,
            isQuantity: isQuantity)
    }

    private init(
        header: CSVReader.Decoded, grouping: LineGrouping?, idColumns: [String], idColumn: String?, file: String,
        isQuantity: (String) -> Bool
    ) throws(IngestionError) {
        let names = header.fields.map(\.trimmed)
        func index(_ column: String, _ setting: String) throws(IngestionError) -> Int {
            guard let found = names.firstIndex(of: column) else {
                throw .badHeader(
                    file: file, line: header.line,
                    reason:
                        "\(setting) names \"\(column)\", which the file does not have; its columns are: \(names.joined(separator: ", "))"
                )
            }
            return found
        }
        if let grouping {
            groupColumn = grouping.column
            let by = try index(grouping.column, "[group] by")
            groupIndex = by
            if grouping.fillDown.isEmpty {
                fillIndexes = names.indices.filter { column in
                    column != by && !grouping.ownPrefixes.contains { names[column].hasPrefix($0) }
                }
            } else {
                var indexes: [Int] = []
                for column in grouping.fillDown { indexes.append(try index(column, "[group] fill-down")) }
                fillIndexes = indexes
            }
        } else {
            groupColumn = ""
            groupIndex = nil
            fillIndexes = []
        }
        var ids: [Int] = []
        for column in idColumns { ids.append(try index(column, "[id] columns")) }
        idIndexes = ids
        quantityIndex = names.indices.first { isQuantity(names[$0]) }
        var composed = header
        if !ids.isEmpty {
            guard let idColumn else {
                throw .badOption(
                    "[id] columns (\(idColumns.joined(separator: ", "))) need --id-column: the name of the id they make"
                )
            }
            if names.contains(idColumn) {
                throw .badHeader(
                    file: file, line: header.line,
                    reason:
                        "the file has a column \"\(idColumn)\" already: the id made of \(idColumns.joined(separator: ", ")) needs another --id-column"
                )
            }
            composed.fields.append(idColumn)
        }
        self.header = composed
    }

    /// Takes the next line; hands each row on as soon as its group is complete.
    package mutating func add(_ record: CSVReader.Decoded, emit: (CSVReader.Decoded) throws -> Void) throws {
        guard let groupIndex else { return try emit(composed(record)) }
        let key = record.fields.indices.contains(groupIndex) ? record.fields[groupIndex].trimmed : ""
        if key != groupKey || key.isEmpty {
            try flush(emit)
            groupKey = key
            groupLine = record.line
        }
        group.append(record)
    }

    /// Hands on the last group.
    package mutating func finish(emit: (CSVReader.Decoded) throws -> Void) throws {
        try flush(emit)
    }

    private mutating func flush(_ emit: (CSVReader.Decoded) throws -> Void) throws {
        guard var first = group.first else { return }
        defer { group.removeAll(keepingCapacity: true) }
        if let key = groupKey, !key.isEmpty {
            if let earlier = seen[key] {
                first.problems.append(
                    CSVReader.Problem(
                        fieldIndex: (groupIndex ?? 0) + 1, line: first.line,
                        message:
                            "\(groupColumn) \(key) began on line \(earlier), and its lines are not together: an export writes an order's lines one after another"
                    ))
                group[0] = first
            } else {
                seen[key] = groupLine
            }
        }
        var rows: [CSVReader.Decoded] = []
        var byID: [String: Int] = [:]
        for var record in group {
            // The group's own columns, from its first line, where this line leaves them empty.
            if record.line != first.line {
                for column in fillIndexes
                where record.fields.indices.contains(column) && first.fields.indices.contains(column)
                    && record.fields[column].trimmed.isEmpty
                {
                    record.fields[column] = first.fields[column]
                }
            }
            let row = composed(record)
            // A line with an id the group had already: one row, the quantities added.
            if !idIndexes.isEmpty, let id = row.fields.last, !id.isEmpty, let at = byID[id], let quantityIndex,
                let added = Self.sum(rows[at].fields, row.fields, at: quantityIndex)
            {
                rows[at].fields[quantityIndex] = added
                continue
            }
            if let id = row.fields.last, !idIndexes.isEmpty { byID[id] = rows.count }
            rows.append(row)
        }
        for row in rows { try emit(row) }
    }

    /// The line with its composed id appended (as it is when no id is composed).
    private func composed(_ record: CSVReader.Decoded) -> CSVReader.Decoded {
        guard !idIndexes.isEmpty else { return record }
        var record = record
        let parts = idIndexes.map { record.fields.indices.contains($0) ? record.fields[$0].trimmed : "" }
        record.fields.append(parts.contains(where: \.isEmpty) ? "" : parts.joined(separator: "/"))
        return record
    }

    /// Two lines' quantities added (nil: either is not a whole number, and the lines stay apart).
    private static func sum(_ a: [String], _ b: [String], at column: Int) -> String? {
        guard a.indices.contains(column), b.indices.contains(column) else { return nil }
        let left = a[column].trimmed.isEmpty ? 1 : Int(a[column].trimmed)
        let right = b[column].trimmed.isEmpty ? 1 : Int(b[column].trimmed)
        guard let left, let right else { return nil }
        return String(left + right)
    }
}

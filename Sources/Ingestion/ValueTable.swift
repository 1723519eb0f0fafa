import FileFormats

/// A column's values and the fields each one decides (`[values.Plan]` in a profile):
///
/// ```toml
/// [values.Plan]
/// Pro   = { licenseTemplateId = "tmpl-pro", "metadata.plan" = "pro" }
/// Basic = { licenseTemplateId = "tmpl-basic", allowedActivations = 1 }
/// ```
///
/// The column is named as the file has it or as it is mapped (`--map`). Values match ignoring case
/// and surrounding spaces; a value with no entry is an error of its row that lists the known ones —
/// unless the table has a `*` entry (it then decides for every other non-empty value), or the
/// column is one of `skip-unlisted` (the row is then skipped). An entry may set nothing (a value
/// that is known and changes nothing: `paid = {}`), or `skip = "reason"` (the row is skipped and
/// listed with the reason) or `warning = "text"` (said about the row, which goes on).
/// A row's own non-empty field wins over a table's (a warning when they disagree), and a table's
/// wins over `--set` — except that a table keyed on the very field it sets translates it
/// (`[values.productId] old-prod = { productId = "p1" }`).
package struct ValueTable: Sendable, Equatable {
    package struct Entry: Sendable, Equatable {
        /// The value as the profile writes it.
        package var value: String
        /// What it sets: a field, a customer field or `metadata.<key>`, and the text it takes.
        package var fields: [Field]

        package init(value: String, fields: [Field]) {
            self.value = value
            self.fields = fields
        }
    }

    package struct Field: Sendable, Equatable {
        package var name: String
        package var value: String

        package init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    package var column: String
    package var entries: [Entry]

    package init(column: String, entries: [Entry]) {
        self.column = column
        self.entries = entries
    }

    /// Case and surrounding spaces do not matter.
    static func normalize(_ value: String) -> String { value.trimmed.lowercased() }
}

/// Another system's export that `--from` turns into rows, which the column mapping and the value
/// tables then shape.
package enum ExportSource: String, Sendable, CaseIterable {
    /// A Keygen license list: JSON:API documents (`{"data": [...], "included": [...]}`), one, or one per line.
    case keygen
    /// A `GET /v3/licenses` array from Cryptlex (another account, another region, a backup).
    case cryptlex
    /// Shopify's "Export orders" CSV (``ExportSource/shopify``).
    case shopify
    /// Stripe's subscriptions export: the Dashboard's CSV, or the API's list (JSON).
    case stripe

    /// The id column the conversion writes: the default `--id-column` with `--from`.
    package var idColumn: String { ExportRows.idColumn(self) }
}

/// A value table made ready for rows: targets resolved, values normalised.
struct ResolvedTable: Sendable {
    struct Assignment: Sendable {
        var target: ColumnTarget
        /// The target's identity (`licenseTemplateId`, `metadata.plan`), made once.
        var identity: String
        var text: String
        var label: String
        /// The table is keyed on this very field: it translates the row's value, which does not win.
        var translates = false
        /// (CSV, XLSX) the row's own column for this target, set once the header is read: the row
        /// wins over the table.
        var ownColumn: Int?
    }

    let column: String
    /// What each value sets, by entry.
    private(set) var assignments: [[Assignment]] = []
    /// Entries by normalised value (see ``ValueTable/normalize(_:)``).
    private let entries: [String: Int]
    /// Entries by the value as the profile writes it: most rows spell it so, and are found without
    /// the trimmed, lowercased copy.
    private let exact: [String: Int]
    let known: String
    /// The `*` entry: what any value without an entry of its own sets (`[values."Cancelled at"]
    /// "*" = { revoked = true }`).
    private let wildcard: Int?
    /// A row whose value has no entry is skipped, not an error (``IngestOptions/skipUnlisted``).
    var skipsUnlisted = false

    /// Whether some entry sets the field `identity` (`productId`: a table of SKUs names products).
    func sets(_ identity: String) -> Bool {
        assignments.contains { $0.contains { $0.identity == identity } }
    }

    /// Resolves every field name; throws naming a field no column could set, or a value of the
    /// wrong type for its field.
    init(_ table: ValueTable, dates: DateReading) throws(IngestionError) {
        column = table.column
        var entries: [String: Int] = [:]
        var exact: [String: Int] = [:]
        for entry in table.entries {
            var assignments: [Assignment] = []
            for field in entry.fields {
                let target = ColumnTarget.resolveTableField(field.name)
                switch target {
                case .unknown, .ignored:
                    let hint = ColumnTarget.suggestion(for: field.name).map { " (did you mean \($0)?)" } ?? ""
                    throw .badOption(
                        "[values.\(table.column)] \(entry.value): \(field.name) is not a license field\(hint)")
                case .field(let index):
                    if case .failure(let problem) = CellParser.parse(
                        .text(field.value), as: LicenseFieldTable.kinds[index], dates: dates)
                    {
                        throw .badOption("[values.\(table.column)] \(entry.value): \(field.name) \(problem.message)")
                    }
                default: break
                }
                let identity = target.identity ?? field.name
                // A warning is about the row's value in the table's column, said as such.
                let label =
                    if case .warning = target { table.column } else {
                        "\(identity) (from [values.\(table.column)] \(entry.value))"
                    }
                assignments.append(Assignment(target: target, identity: identity, text: field.value, label: label))
            }
            let key = ValueTable.normalize(entry.value)
            guard entries[key] == nil else {
                throw .badOption(
                    "[values.\(table.column)] has \(entry.value) twice (values match ignoring case and spaces)")
            }
            entries[key] = self.assignments.count
            exact[entry.value] = self.assignments.count
            self.assignments.append(assignments)
        }
        self.entries = entries
        self.exact = exact
        wildcard = exact["*"]
        known = table.entries.map(\.value).filter { $0 != "*" }.sorted().joined(separator: ", ")
    }

    /// The entry for a row's value: its own, else the table's `*` entry (any value); nil: neither.
    func entry(for value: String) -> Int? {
        exact[value] ?? entries[ValueTable.normalize(value)] ?? wildcard
    }

    /// A copy that shares no string or array with this one (see ``RowBuilder/unshared()``): rows
    /// read the assignments' text, on every worker.
    func unshared() -> ResolvedTable {
        var copy = self
        copy.assignments = assignments.map { entry in
            entry.map { assignment in
                var assignment = assignment
                assignment.target = assignment.target.unshared
                assignment.identity = assignment.identity.unshared
                assignment.text = assignment.text.unshared
                assignment.label = assignment.label.unshared
                return assignment
            }
        }
        return copy
    }

    /// Says what the keyed column sets itself (`identity`: its mapped target), for the assignments
    /// that translate it, and (CSV, XLSX) the column that sets each assignment's target
    /// (`column(identity)`).
    mutating func prepare(keyIdentity: String?, column: (String) -> Int? = { _ in nil }) {
        for entry in assignments.indices {
            for index in assignments[entry].indices {
                assignments[entry][index].translates = assignments[entry][index].identity == keyIdentity
                assignments[entry][index].ownColumn = column(assignments[entry][index].identity)
            }
        }
    }
}

extension RowMapper {
    /// Places what the value tables say for this row: `key(index)` is the row's value of table
    /// `index`'s column (nil: the row has none), `own` the row's own text for an assignment's target.
    /// (Elements are read where they lie: a copy of an assignment is four reference counts, per row.)
    func applyTables(
        _ tables: [ResolvedTable], key: (Int) -> String?, own: (ResolvedTable.Assignment) -> String?,
        into row: inout Assembly
    ) {
        for index in tables.indices {
            guard let key = key(index), !key.trimmed.isEmpty else { continue }
            guard let entry = tables[index].entry(for: key) else {
                let table = tables[index]
                if table.skipsUnlisted {
                    // Not one of the lines to read (a mug beside the licenses): skipped, counted.
                    row.skip =
                        row.skip
                        ?? "\(table.column) \"\(key.trimmed.prefix(60))\" is not in [values.\(table.column)] (skip-unlisted)"
                    continue
                }
                row.diagnostics.append(
                    Diagnostic(
                        file: file, line: row.position.line, field: table.column,
                        message:
                            "\"\(key.trimmed.prefix(60))\" is not in [values.\(table.column)]; its values are: \(table.known)"
                    ))
                continue
            }
            for position in tables[index].assignments[entry].indices {
                if !tables[index].assignments[entry][position].translates,
                    let mine = own(tables[index].assignments[entry][position]), !mine.trimmed.isEmpty
                {
                    let assignment = tables[index].assignments[entry][position]
                    if ValueTable.normalize(mine) != ValueTable.normalize(assignment.text) {
                        row.diagnostics.append(
                            Diagnostic(
                                file: file, line: row.position.line, field: assignment.identity,
                                message:
                                    "the row says \"\(mine.trimmed.prefix(60))\", [values.\(tables[index].column)] \(key.trimmed) says \"\(assignment.text.prefix(60))\"; the row's value is used",
                                severity: .warning))
                    }
                    continue
                }
                place(
                    tables[index].assignments[entry][position].target,
                    .text(tables[index].assignments[entry][position].text),
                    label: tables[index].assignments[entry][position].label, into: &row)
            }
        }
    }
}

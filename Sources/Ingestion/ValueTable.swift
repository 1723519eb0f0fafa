/// A column's values and the fields each one decides (`[values.Plan]` in a profile):
///
/// ```toml
/// [values.Plan]
/// Pro   = { licenseTemplateId = "tmpl-pro", "metadata.plan" = "pro" }
/// Basic = { licenseTemplateId = "tmpl-basic", allowedActivations = 1 }
/// ```
///
/// The column is named as the file has it or as it is mapped (`--map`). Values match ignoring case
/// and surrounding spaces; a value with no entry is an error of its row that lists the known ones.
/// A row's own non-empty field wins over a table's (a warning when they disagree), and a table's
/// wins over `--set` — except that a table keyed on the very field it sets translates it
/// (`[values.productId] old-prod = { productId = "p1" }`).
public struct ValueTable: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        /// The value as the profile writes it.
        public var value: String
        /// What it sets: a field, a customer field or `metadata.<key>`, and the text it takes.
        public var fields: [Field]

        public init(value: String, fields: [Field]) {
            self.value = value
            self.fields = fields
        }
    }

    public struct Field: Sendable, Equatable {
        public var name: String
        public var value: String

        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    public var column: String
    public var entries: [Entry]

    public init(column: String, entries: [Entry]) {
        self.column = column
        self.entries = entries
    }

    /// Case and surrounding spaces do not matter.
    static func normalize(_ value: String) -> String { value.trimmed.lowercased() }
}

/// Another system's export that `--from` turns into rows, which the column mapping and the value
/// tables then shape.
public enum ExportSource: String, Sendable, CaseIterable {
    /// A Keygen license list: JSON:API documents (`{"data": [...], "included": [...]}`), one, or one per line.
    case keygen
    /// A `GET /v3/licenses` array from Cryptlex (another account, another region, a backup).
    case cryptlex

    /// The id column the conversion writes: the default `--id-column` with `--from`.
    public var idColumn: String { ExportRows.idColumn(self) }
}

/// A value table made ready for rows: targets resolved, values normalised.
struct ResolvedTable: Sendable {
    struct Assignment: Sendable {
        var target: ColumnTarget
        var text: String
        var label: String
    }

    let column: String
    /// What the keyed column itself sets (its mapped target), for tables that translate it.
    var keyIdentity: String?
    let entries: [String: [Assignment]]
    let known: String

    /// Resolves every field name; throws naming a field no column could set, or a value of the
    /// wrong type for its field.
    init(_ table: ValueTable, dates: DateReading) throws(IngestionError) {
        column = table.column
        var entries: [String: [Assignment]] = [:]
        for entry in table.entries {
            var assignments: [Assignment] = []
            for field in entry.fields {
                let target = ColumnTarget.resolve(field.name, policy: .error)
                switch target {
                case .unknown, .ignored:
                    let hint = ColumnTarget.suggestion(for: field.name).map { " (did you mean \($0)?)" } ?? ""
                    throw .badOption("[values.\(table.column)] \(entry.value): \(field.name) is not a license field\(hint)")
                case .field(let index):
                    if case .failure(let problem) = CellParser.parse(.text(field.value), as: LicenseFieldTable.kinds[index], dates: dates) {
                        throw .badOption("[values.\(table.column)] \(entry.value): \(field.name) \(problem.message)")
                    }
                default: break
                }
                assignments.append(Assignment(target: target, text: field.value,
                                              label: "\(target.identity ?? field.name) (from [values.\(table.column)] \(entry.value))"))
            }
            let key = ValueTable.normalize(entry.value)
            guard entries[key] == nil else { throw .badOption("[values.\(table.column)] has \(entry.value) twice (values match ignoring case and spaces)") }
            entries[key] = assignments
        }
        self.entries = entries
        known = table.entries.map(\.value).sorted().joined(separator: ", ")
    }
}

extension RowMapper {
    /// Places what the value tables say for this row: `keys` are the row's values of the tables'
    /// columns (nil: the row has none), `own` the row's own text for a target identity.
    func applyTables(_ tables: [ResolvedTable], keys: [String?], own: (String) -> String?, into row: inout Assembly) {
        for (index, table) in tables.enumerated() {
            guard let key = keys[index], !key.trimmed.isEmpty else { continue }
            guard let assignments = table.entries[ValueTable.normalize(key)] else {
                row.diagnostics.append(Diagnostic(file: file, line: row.position.line, field: table.column,
                                                  message: "\"\(key.trimmed.prefix(60))\" is not in [values.\(table.column)]; its values are: \(table.known)"))
                continue
            }
            for assignment in assignments {
                let identity = assignment.target.identity ?? ""
                if identity != table.keyIdentity, let mine = own(identity), !mine.trimmed.isEmpty {
                    if ValueTable.normalize(mine) != ValueTable.normalize(assignment.text) {
                        row.diagnostics.append(Diagnostic(file: file, line: row.position.line, field: identity, message:
                            "the row says \"\(mine.trimmed.prefix(60))\", [values.\(table.column)] \(key.trimmed) says \"\(assignment.text.prefix(60))\"; the row's value is used",
                            severity: .warning))
                    }
                    continue
                }
                place(assignment.target, .text(assignment.text), label: assignment.label, into: &row)
            }
        }
    }
}

import CryptlexModels

/// One input row, mapped and validated: the unit the journal, the scheduler and the results
/// file work with.
public struct OrderRow: Sendable {
    public var position: SourcePosition
    /// The row's identity across runs: the id column's value, or `#N` (the row's ordinal).
    public var rowID: String
    /// The body to send, as far as the row could be mapped.
    public var request: LicenseRequest
    /// The customer the license belongs to, from the `email`, `firstName`, `lastName` and
    /// `company` columns.
    public var customer: Customer?
    /// How many licenses the row asks for (the `quantity` column; 1 when absent).
    public var quantity: Int
    /// Everything wrong with the row; a row with an error is not sent.
    public var diagnostics: [Diagnostic]
    /// True when ``rowID`` is the id column's value (not the position stand-in of a row whose id is empty).
    public internal(set) var idIsFromColumn = false
    /// What ``IngestOptions/prepare`` made of the row (nil without one, or for an invalid row).
    public var prepared: [UInt8]?
    /// What the row does; for a change, ``request`` holds the fields an update sets.
    public internal(set) var action: LicenseAction = .create
    /// The license a change row changes (nil for a create, or when the row names none: an error).
    public internal(set) var target: LicenseTarget?
    /// A set-expiry row's new expiry.
    public internal(set) var expiry: ExpiryChange?
    /// The body fields an update row changes (the PATCH body holds these and nothing else).
    public internal(set) var changedFields: [String] = []

    /// True when no diagnostic is an error.
    public var isValid: Bool { !diagnostics.contains { $0.severity == .error } }
}

/// A license's customer, as an order names it.
public struct Customer: Sendable, Hashable {
    public var email: String
    public var firstName: String?
    public var lastName: String?
    public var company: String?

    public init(email: String, firstName: String? = nil, lastName: String? = nil, company: String? = nil) {
        self.email = email
        self.firstName = firstName
        self.lastName = lastName
        self.company = company
    }
}

/// What to do with a column that is not a body field.
public enum UnknownColumnPolicy: String, Sendable, CaseIterable {
    /// Report it as an error (the default): a misspelt column must not be dropped in silence.
    case error
    /// Send it as a metadata entry named after the column.
    case metadata
    /// Drop it.
    case ignore
}

/// How to read and map an order file.
public struct IngestOptions: Sendable {
    /// The format; nil infers it from the file's extension.
    public var format: InputFormat?
    /// The CSV delimiter; nil means `,` unless the file starts with `sep=X`.
    public var delimiter: UInt8?
    /// The column that identifies a row across runs (an order id); nil uses the row's position.
    public var idColumn: String?
    /// Values for every row, as `(field or metadata.<key>, text)`; a value in the row wins.
    public var defaults: [(String, String)]
    public var unknownColumns: UnknownColumnPolicy
    /// The zone of date-times written without one (`--time-zone`); nil refuses them.
    public var timeZone: LocalTimeZone?
    /// A local date format for date cells (`--date-format dd/MM/yyyy`); nil: ISO 8601 only.
    public var dateFormat: DateFormat?
    /// `.xlsx`: the sheet to read (nil: the first).
    public var sheet: String?
    /// Source column (or JSON member) name → what it means to licprov (`--map`, `[columns]`).
    public var columnMap: [String: String] = [:]
    /// A column's values that decide other fields (`[values.COLUMN]`).
    public var valueTables: [ValueTable] = []
    /// Another system's export to turn into rows first (`--from`).
    public var source: ExportSource?
    /// What a run adds to each license it creates, checked for room and clashes by validate and run
    /// alike: licprov's marker (its metadata key; nil: `--no-marker`), and the id column kept as a
    /// metadata entry of its name (false: `--no-id-metadata`).
    public var markerKey: String? = "licprov_request"
    public var keepIDAsMetadata = true
    /// The action of rows without an `action` column or cell (`--action`).
    public var action: LicenseAction = .create
    /// `--target-metadata NAME`: change rows find their license by the metadata entry NAME (the row's
    /// NAME column, or its id when NAME is the id column).
    public var targetMetadata: String?
    /// Per-row work of the caller's (encoding the request, say), run in the parallel stage for each
    /// valid row before the checks that span rows; its result is ``OrderRow/prepared``.
    public var prepare: (@Sendable (OrderRow) -> [UInt8])?

    public init(format: InputFormat? = nil, delimiter: UInt8? = nil, idColumn: String? = nil,
                defaults: [(String, String)] = [], unknownColumns: UnknownColumnPolicy = .error, timeZone: LocalTimeZone? = nil) {
        self.timeZone = timeZone
        self.format = format
        self.delimiter = delimiter
        self.idColumn = idColumn
        self.defaults = defaults
        self.unknownColumns = unknownColumns
    }
}

/// What a whole read found.
public struct IngestSummary: Sendable, Equatable {
    /// Data rows read (not counting a header or blank lines).
    public var rows = 0
    public var validRows = 0
    /// Licenses the valid rows ask for (quantities added up).
    public var licenses = 0
    /// Valid rows that change an existing license (every action but create).
    public var changes = 0
    /// Problems with the file as a whole (header, unknown columns), not with one row.
    public var fileDiagnostics: [Diagnostic] = []
    /// Error diagnostics, file and rows together.
    public var errors = 0
    public var warnings = 0

    /// True when nothing stops a run.
    public var isClean: Bool { errors == 0 }

    public init() {}
}

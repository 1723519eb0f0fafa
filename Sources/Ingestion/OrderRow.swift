import CryptlexModels
import FileFormats

/// One input row, mapped and validated: the unit the journal, the scheduler and the results
/// file work with.
package struct OrderRow: Sendable {
    package var position: SourcePosition
    /// The row's identity across runs: the id column's value, or `#N` (the row's ordinal).
    package var rowID: String
    /// The body to send, as far as the row could be mapped.
    package var request: LicenseRequest
    /// The customer the license belongs to, from the `email`, `firstName`, `lastName` and
    /// `company` columns.
    package var customer: Customer?
    /// The end customer's company (`organization.*` columns): found or created once by name.
    package internal(set) var organization: OrganizationRequest?
    /// The reseller the order comes through (`reseller.*` columns): found or created once by name.
    package internal(set) var reseller: ResellerRequest?
    /// How many licenses the row asks for (the `quantity` column; 1 when absent).
    package var quantity: Int
    /// Everything wrong with the row; a row with an error is not sent.
    package var diagnostics: [Diagnostic]
    /// True when ``rowID`` is the id column's value (not the position stand-in of a row whose id is empty).
    package internal(set) var idIsFromColumn = false
    /// What ``IngestOptions/prepare`` made of the row (nil without one, or for an invalid row).
    package var prepared: [UInt8]?
    /// What the row does; for a change, ``request`` holds the fields an update sets.
    package internal(set) var action: LicenseAction = .create
    /// The license a change row changes (nil for a create, or when the row names none: an error).
    package internal(set) var target: LicenseTarget?
    /// A set-expiry row's new expiry.
    package internal(set) var expiry: ExpiryChange?
    /// The body fields an update row changes (the PATCH body holds these and nothing else).
    package internal(set) var changedFields: [String] = []
    /// Why the row is not a license to provision (an order not paid yet, a line that is not a
    /// license: `skip` in a value table, `--skip-unlisted`): counted and listed, never sent, no error.
    package internal(set) var skipped: String?

    /// True when no diagnostic is an error.
    package var isValid: Bool { !diagnostics.contains { $0.severity == .error } }
}

/// A license's customer, as an order names it.
package struct Customer: Codable, Sendable, Hashable {
    package var email: String
    package var firstName: String?
    package var lastName: String?
    package var company: String?

    package init(email: String, firstName: String? = nil, lastName: String? = nil, company: String? = nil) {
        self.email = email
        self.firstName = firstName
        self.lastName = lastName
        self.company = company
    }
}

/// What to do with a column that is not a body field.
package enum UnknownColumnPolicy: String, Sendable, CaseIterable {
    /// Report it as an error (the default): a misspelt column must not be dropped in silence.
    case error
    /// Send it as a metadata entry named after the column.
    case metadata
    /// Drop it.
    case ignore
}

/// How to read and map an order file.
package struct IngestOptions: Sendable {
    /// The format; nil infers it from the file's extension.
    package var format: InputFormat?
    /// The CSV delimiter; nil means `,` unless the file starts with `sep=X`.
    package var delimiter: UInt8?
    /// The column that identifies a row across runs (an order id); nil uses the row's position.
    package var idColumn: String?
    /// Values for every row, as `(field or metadata.<key>, text)`; a value in the row wins.
    package var defaults: [(String, String)]
    package var unknownColumns: UnknownColumnPolicy
    /// The zone of date-times written without one (`--time-zone`); nil refuses them.
    package var timeZone: LocalTimeZone?
    /// A local date format for date cells (`--date-format dd/MM/yyyy`); nil: ISO 8601 only.
    package var dateFormat: DateFormat?
    /// `.xlsx`: the sheet to read (nil: the first).
    package var sheet: String?
    /// Source column (or JSON member) name → what it means to licprov (`--map`, `[columns]`).
    package var columnMap: [String: String] = [:]
    /// A column's values that decide other fields (`[values.COLUMN]`).
    package var valueTables: [ValueTable] = []
    /// Another system's export to turn into rows first (`--from`).
    package var source: ExportSource?
    /// What a run adds to each license it creates, checked for room and clashes by validate and run
    /// alike: licprov's marker (its metadata key; nil: `--no-marker`), and the id column kept as a
    /// metadata entry of its name (false: `--no-id-metadata`).
    package var markerKey: String? = "licprov_request"
    package var keepIDAsMetadata = true
    /// The action of rows without an `action` column or cell (`--action`).
    package var action: LicenseAction = .create
    /// `--target-metadata NAME`: change rows find their license by the metadata entry NAME (the row's
    /// NAME column, or its id when NAME is the id column).
    package var targetMetadata: String?
    /// Per-row work of the caller's (encoding the request, say), run in the parallel stage for each
    /// valid row before the checks that span rows; its result is ``OrderRow/prepared``.
    package var prepare: (@Sendable (OrderRow) -> [UInt8])?
    /// Lines grouped into orders (`[group]`, `--from shopify`): an export that writes an order's own
    /// columns on its first line only.
    package var grouping: LineGrouping?
    /// The id made of several columns, joined with `/` (`#1001/DESK-PRO-1Y`), into the id column;
    /// within a group, lines with one id are one row, their quantities added.
    package var idColumns: [String] = []
    /// Columns whose value tables list the rows to read: a row whose value has no entry is skipped
    /// and counted, not an error (`skip-unlisted`, `--skip-unlisted`; a shop's mugs beside its licenses).
    package var skipUnlisted: Set<String> = []
    /// What a row's quantity means: that many licenses (the default), or seats on one license.
    package var quantityMeaning: QuantityMeaning = .licenses

    package init(
        format: InputFormat? = nil, delimiter: UInt8? = nil, idColumn: String? = nil,
        defaults: [(String, String)] = [], unknownColumns: UnknownColumnPolicy = .error, timeZone: LocalTimeZone? = nil
    ) {
        self.timeZone = timeZone
        self.format = format
        self.delimiter = delimiter
        self.idColumn = idColumn
        self.defaults = defaults
        self.unknownColumns = unknownColumns
    }
}

/// What a row's `quantity` means.
package enum QuantityMeaning: String, Sendable, CaseIterable {
    /// That many licenses, one per unit (a shop's line of 3 copies).
    case licenses
    /// One license with that many seats: its `allowedActivations` (a subscription's quantity).
    case seats
}

/// What a whole read found.
package struct IngestSummary: Sendable, Equatable {
    /// Data rows read (not counting a header or blank lines).
    package var rows = 0
    package var validRows = 0
    /// Licenses the valid rows ask for (quantities added up).
    package var licenses = 0
    /// Valid rows that change an existing license (every action but create).
    package var changes = 0
    /// Rows skipped (``OrderRow/skipped``): counted, listed, not errors.
    package var skipped = 0
    /// Problems with the file as a whole (header, unknown columns), not with one row.
    package var fileDiagnostics: [Diagnostic] = []
    /// Error diagnostics, file and rows together.
    package var errors = 0
    package var warnings = 0

    /// True when nothing stops a run.
    package var isClean: Bool { errors == 0 }

    package init() {}
}

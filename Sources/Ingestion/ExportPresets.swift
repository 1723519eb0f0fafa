import FileFormats
import Foundation

/// What `--from shopify` and `--from stripe` set: a profile of the shop's own export, built from the
/// profile tools any other export can use (grouping with fill-down, an id of several columns,
/// `skip-unlisted`, what quantity means, status columns through value tables). A profile's own
/// settings win: its `[columns]`, its `[values.X]` entries (value by value), its dates.
package struct ExportPreset: Sendable {
    package var idColumn: String
    package var columnMap: [String: String] = [:]
    package var valueTables: [ValueTable] = []
    package var grouping: LineGrouping?
    package var idColumns: [String] = []
    package var skipUnlisted: Set<String> = []
    package var quantityMeaning: QuantityMeaning = .licenses
    package var dateFormat: String?
    package var timeZone: String?
    package var unknownColumns: UnknownColumnPolicy = .ignore
}

extension ExportSource {
    /// Read by a converter into JSON rows (a JSON export), or as the rows of a CSV or workbook with
    /// the preset profile.
    package func isConverted(_ format: InputFormat) -> Bool {
        switch self {
        case .keygen, .cryptlex: true
        case .stripe: format == .json || format == .ndjson
        case .shopify: false
        }
    }

    /// The preset profile (nil: the converter's rows need none).
    package var preset: ExportPreset? {
        switch self {
        case .keygen, .cryptlex: return nil
        case .shopify: return Self.shopifyPreset
        case .stripe: return Self.stripePreset
        }
    }

    /// `options` with the preset under it: the profile's own settings win.
    package func applying(to options: IngestOptions, unknownColumnsGiven: Bool) throws -> IngestOptions {
        guard let preset else { return options }
        var result = options
        for (source, target) in preset.columnMap where result.columnMap[source] == nil {
            // A profile that maps the same target from another column replaces the preset's.
            guard !result.columnMap.values.contains(target) else { continue }
            result.columnMap[source] = target
        }
        for table in preset.valueTables {
            if let index = result.valueTables.firstIndex(where: { $0.column == table.column }) {
                let own = Set(result.valueTables[index].entries.map { ValueTable.normalize($0.value) })
                result.valueTables[index].entries += table.entries.filter {
                    !own.contains(ValueTable.normalize($0.value))
                }
            } else {
                result.valueTables.append(table)
            }
        }
        for column in preset.skipUnlisted.sorted() where !result.valueTables.contains(where: { $0.column == column }) {
            throw IngestionError.badOption(
                "--from \(rawValue) reads the lines a [values.\"\(column)\"] table lists, and there is none: give a profile (--config) "
                    + "whose [values.\"\(column)\"] says which values are licenses, and of which product (see samples/\(rawValue).toml)"
            )
        }
        result.grouping = result.grouping ?? preset.grouping
        if result.idColumns.isEmpty { result.idColumns = preset.idColumns }
        result.skipUnlisted.formUnion(preset.skipUnlisted)
        if result.idColumn == nil { result.idColumn = preset.idColumn }
        if result.dateFormat == nil, let pattern = preset.dateFormat {
            result.dateFormat = try DateFormat(pattern: pattern)
        }
        if result.timeZone == nil, let zone = preset.timeZone { result.timeZone = try LocalTimeZone(parsing: zone) }
        if !unknownColumnsGiven { result.unknownColumns = preset.unknownColumns }
        result.quantityMeaning = preset.quantityMeaning
        return result
    }

    /// A preset's value table, written as its profile would be (`paid = { revoked = false }`);
    /// the fields in the order given.
    private static func table(_ column: String, _ entries: [(String, KeyValuePairs<String, String>)]) -> ValueTable {
        ValueTable(
            column: column,
            entries: entries.map { value, fields in
                .init(value: value, fields: fields.map { .init(name: $0.key, value: $0.value) })
            })
    }

    // MARK: Shopify

    /// Shopify's "Export orders" CSV: a line per line item; the order's own columns (`Email`,
    /// `Financial Status`, `Billing Name`, `Cancelled at`, …) on its first line only. One row per
    /// order and SKU (`#1001/DESK-PRO-1Y`), the quantity licenses; pending and authorized orders
    /// skipped until paid; refunded, voided or cancelled ones revoked; partially refunded ones kept,
    /// with a warning. Which SKUs are licenses, and of what, the profile's `[values."Lineitem sku"]`
    /// says: every other line (a mug beside the licenses) is skipped.
    static let shopifyPreset = ExportPreset(
        idColumn: "shopify_line",
        columnMap: [
            "Email": "email", "Billing Name": "fullName", "Billing Company": "company", "Lineitem quantity": "quantity",
        ],
        valueTables: [
            table(
                "Financial Status",
                [
                    ("paid", ["revoked": "false"]),
                    ("pending", ["skip": "pending: provisioned once paid"]),
                    ("authorized", ["skip": "authorized: provisioned once paid"]),
                    ("partially_paid", ["skip": "partially paid: provisioned once paid"]),
                    ("refunded", ["revoked": "true"]),
                    ("voided", ["revoked": "true"]),
                    (
                        "partially_refunded",
                        ["revoked": "false", "warning": "partially refunded: its licenses are kept"]
                    ),
                ]),
            table("Cancelled at", [("*", ["revoked": "true"])]),
        ],
        grouping: LineGrouping(column: "Name", ownPrefixes: ["Lineitem ", "Vendor"]),
        idColumns: ["Name", "Lineitem sku"],
        skipUnlisted: ["Lineitem sku"],
        quantityMeaning: .licenses,
        dateFormat: "yyyy-MM-dd HH:mm:ss Z")

    // MARK: Stripe

    /// Stripe's subscriptions export (Dashboard → Subscriptions → Export, or the API's list): one
    /// license per subscription, its seats the `Quantity`, valid until the current period ends;
    /// suspended while payment fails (`past_due`, `unpaid`, `paused`), revoked once `canceled` or
    /// `incomplete_expired`, not provisioned while `incomplete`; `KEY (metadata)` columns as
    /// metadata. The price (`Plan`) keys the profile's `[values.Plan]` (product, template).
    static let stripePreset = ExportPreset(
        idColumn: "stripe_subscription",
        columnMap: [
            "id": "stripe_subscription", "Customer Email": "email", "Customer Name": "fullName", "Quantity": "quantity",
            "Current Period End (UTC)": "expiresAt", "* (metadata)": "metadata.*",
        ],
        valueTables: [
            table(
                "Status",
                [
                    ("active", ["suspended": "false", "revoked": "false"]),
                    ("trialing", ["suspended": "false", "revoked": "false"]),
                    ("past_due", ["suspended": "true", "revoked": "false"]),
                    ("unpaid", ["suspended": "true", "revoked": "false"]),
                    ("paused", ["suspended": "true", "revoked": "false"]),
                    ("canceled", ["revoked": "true"]),
                    ("incomplete_expired", ["revoked": "true"]),
                    ("incomplete", ["skip": "incomplete: provisioned once its first payment succeeds"]),
                ])
        ],
        quantityMeaning: .seats,
        dateFormat: "yyyy-MM-dd HH:mm",
        timeZone: "UTC")

    // MARK: Recognizing an export read without --from

    /// The export a header is (nil: none licprov knows).
    static func recognize(_ names: [String]) -> ExportSource? {
        let columns = Set(names)
        if columns.isSuperset(of: ["Name", "Financial Status", "Lineitem sku", "Lineitem quantity"]) {
            return .shopify
        }
        if columns.isSuperset(of: ["Customer Email", "Status", "Current Period End (UTC)"]) { return .stripe }
        return nil
    }

    /// What to do with a file that is this export, read without `--from`.
    var recognizedHint: String {
        switch self {
        case .shopify:
            "this is Shopify's orders export (a line per line item, the order's columns on its first line only): "
                + "read it with --from shopify, and a profile whose [values.\"Lineitem sku\"] says which SKUs are licenses"
        case .stripe:
            "this is Stripe's subscriptions export: read it with --from stripe, and a profile whose [values.Plan] says which "
                + "product each price is"
        case .keygen, .cryptlex:
            "read it with --from \(rawValue)"
        }
    }
}

import ArgumentParser
import CryptlexModels
import FileFormats
import Foundation
import Ingestion
import Provisioning

/// `--value` flags (one entry each, as JSON) gathered into tables, one per column.
enum ValueTableFlags {
    /// A profile's scalar: text, a whole number, a number or a boolean, each as text for the cell.
    struct Scalar: Decodable {
        var text: String
        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let string = try? container.decode(String.self) {
                text = string
            } else if let flag = try? container.decode(Bool.self) {
                text = flag ? "true" : "false"
            } else if let whole = try? container.decode(Int64.self) {
                text = String(whole)
            } else {
                text = String(try container.decode(Double.self))
            }
        }
    }

    struct Entry: Decodable {
        var column: String
        var value: Scalar
        var set: [String: Scalar]
    }

    static func tables(_ flags: [String]) throws -> [ValueTable] {
        var tables: [ValueTable] = []
        for flag in flags {
            guard let entry = try? JSONDecoder().decode(Entry.self, from: Data(flag.utf8)) else {
                throw ValidationError(
                    "--value \(flag.prefix(80)): expected {\"column\": NAME, \"value\": VALUE, \"set\": {FIELD: VALUE, …}}"
                )
            }
            let fields = entry.set.sorted { $0.key < $1.key }.map {
                ValueTable.Field(name: $0.key, value: $0.value.text)
            }
            let built = ValueTable.Entry(value: entry.value.text, fields: fields)
            if let index = tables.firstIndex(where: { $0.column == entry.column }) {
                tables[index].entries.append(built)
            } else {
                tables.append(ValueTable(column: entry.column, entries: [built]))
            }
        }
        return tables
    }
}

/// The flags that say how to read and map an order file, shared by every command that reads one.
struct InputOptions: ParsableArguments {
    @Argument(help: "The order file: .csv, .json (an array of objects), .ndjson or .xlsx; - reads standard input.")
    var file: String

    @Option(help: "The input format, when the extension does not say.")
    var format: InputFormat?

    @Option(help: "The sheet of an .xlsx workbook to read (default: the first).")
    var sheet: String?

    @Option(
        help: ArgumentHelp(
            "Read another system's export: shopify (Shopify's orders export: lines grouped into orders, one row per order and SKU, pending orders skipped, refunds revoked), stripe (Stripe's subscriptions export, CSV or the API's JSON: seats, expiry, dunning suspended, cancellations revoked), keygen (a Keygen license list, JSON:API) or cryptlex (a GET /v3/licenses array); a profile's mapping and value tables apply over it.",
            valueName: "SYSTEM"))
    var from: ExportSource?

    @Option(
        name: .customLong("map"),
        help: ArgumentHelp(
            "What a source column means to licprov, SOURCE=TARGET (repeatable; a profile's [columns] does the same): a license field, a customer field, metadata.KEY, action, quantity, licenseId or the id column.",
            valueName: "SOURCE=TARGET"))
    var mappings: [String] = []

    @Option(
        name: .customLong("value"),
        help: ArgumentHelp(
            "A value table entry as JSON, {\"column\":\"Plan\",\"value\":\"Pro\",\"set\":{\"licenseTemplateId\":\"tmpl-pro\"}} (repeatable; usually written as a profile's [values.Plan]).",
            valueName: "JSON"))
    var values: [String] = []

    @Option(
        help: ArgumentHelp(
            "Read dates written in this local format: dd/MM/yyyy, MM/dd/yyyy, dd.MM.yyyy, yyyy-MM-dd HH:mm, … (ISO dates are read too; a time needs --time-zone).",
            valueName: "PATTERN"))
    var dateFormat: String?

    @Option(help: "The CSV delimiter (\\t or tab: a tab). Default: , or what a first line sep=X says.")
    var delimiter: CSVDelimiter?

    @Option(
        help:
            "The column that identifies a row across runs (an order id). Without it a row is identified by its position."
    )
    var idColumn: String?

    @Option(help: "The product for every row that has no productId column value.")
    var productId: String?

    @Option(help: "The license template for every row that has no licenseTemplateId value.")
    var licenseTemplateId: String?

    @Option(
        name: .customLong("set"),
        help: ArgumentHelp(
            "A value for every row, FIELD=VALUE (repeatable; a value in the row wins).", valueName: "FIELD=VALUE"))
    var assignments: [String] = []

    @Option(
        help:
            "What to do with a column that is not a license field: error (the default; with --from shopify or stripe: ignore), metadata (send it as metadata) or ignore."
    )
    var unknownColumns: UnknownColumnPolicy?

    @Option(
        help: ArgumentHelp(
            "Skip the rows whose value of COLUMN has no entry in its value table (repeatable; a profile's skip-unlisted): counted and listed, not errors. For a shop's lines that are not licenses.",
            valueName: "COLUMN"))
    var skipUnlisted: [String] = []

    @Option(
        help:
            "What a row's quantity means: licenses (one license each; the default) or seats (one license with that many allowedActivations; the default with --from stripe)."
    )
    var quantity: QuantityMeaning?

    @Option(
        help: ArgumentHelp(
            "Group lines into orders by COLUMN (a profile's [group] by): an export that writes an order's own columns on its first line only; --fill-down says which to copy (default: every column).",
            valueName: "COLUMN"))
    var groupBy: String?

    @Option(
        help: ArgumentHelp(
            "A column a group's first line gives its other lines (repeatable; a profile's [group] fill-down).",
            valueName: "COLUMN"))
    var fillDown: [String] = []

    @Option(
        help: ArgumentHelp(
            "A column the id is made of, joined with / into the --id-column (repeatable, in order; a profile's [id] columns): #1001/DESK-PRO-1Y. Lines of one group with the same id are one row, their quantities added.",
            valueName: "COLUMN"))
    var idOf: [String] = []

    @Option(
        help: ArgumentHelp(
            "Read date-times written without a zone (2015-05-01T11:16:16) in this zone: UTC, an offset such as +02:00, or an IANA name such as Europe/Berlin. Without it they are refused.",
            valueName: "ZONE"))
    var timeZone: String?

    /// The options as Ingestion takes them; throws a usage error naming the bad flag.
    @Option(
        help: ArgumentHelp(
            "A TOML file of flags (keys are the long flags: api-url, id-column, concurrency, set = [...], sections [run], [validate], …); flags on the command line win. Default: LICPROV_CONFIG.",
            valueName: "FILE"))
    var config: String?

    @Option(help: ArgumentHelp("What every row without an action column does (default: create).", valueName: "ACTION"))
    var action: LicenseAction?

    @Option(
        help: ArgumentHelp(
            "Rows that change a license find it by the metadata entry NAME, whose value is the row's NAME column (or its id, when NAME is the --id-column: licprov keeps the id on every license it creates).",
            valueName: "NAME"))
    var targetMetadata: String?

    @OptionGroup var marker: MarkerKeyOption

    @Flag(help: "Put no marker on licenses. Exactly-once then holds only for rows with their own key.")
    var noMarker = false

    @Flag(help: "Do not keep the --id-column value as a metadata entry of the same name on each license.")
    var noIdMetadata = false

    func ingestOptions() throws -> IngestOptions {
        var defaults: [(String, String)] = []
        if let productId { defaults.append(("productId", productId)) }
        if let licenseTemplateId { defaults.append(("licenseTemplateId", licenseTemplateId)) }
        for assignment in assignments {
            guard let equals = assignment.firstIndex(of: "="), equals != assignment.startIndex else {
                throw ValidationError("--set \(assignment): expected FIELD=VALUE, e.g. --set allowedActivations=3")
            }
            defaults.append((String(assignment[..<equals]), String(assignment[assignment.index(after: equals)...])))
        }
        var zone: LocalTimeZone?
        if let timeZone {
            do { zone = try LocalTimeZone(parsing: timeZone) } catch {
                throw ValidationError(error.localizedDescription)
            }
        }
        // keygen and cryptlex exports are JSON whatever the name; shopify and stripe by their extension.
        let converted = from.map { $0 == .keygen || $0 == .cryptlex } ?? false
        var options = IngestOptions(
            format: format ?? (converted ? .ndjson : nil), delimiter: delimiter?.byte,
            idColumn: idColumn ?? from?.idColumn, defaults: defaults, unknownColumns: unknownColumns ?? .error,
            timeZone: zone)
        options.source = from
        options.skipUnlisted = Set(skipUnlisted)
        if let groupBy { options.grouping = LineGrouping(column: groupBy, fillDown: fillDown) }
        if !fillDown.isEmpty && groupBy == nil {
            throw ValidationError("--fill-down needs --group-by: the column lines are grouped by")
        }
        options.idColumns = idOf
        options.sheet = sheet
        // The flag's, or the default: a command with a journal resolves it against the journal's.
        options.markerKey = noMarker ? nil : marker.markerKey ?? RunConfiguration.defaultMarkerKey
        options.keepIDAsMetadata = !noIdMetadata
        for mapping in mappings {
            guard let equals = mapping.lastIndex(of: "="), equals != mapping.startIndex,
                mapping.index(after: equals) != mapping.endIndex
            else {
                throw ValidationError("--map \(mapping): expected SOURCE=TARGET, e.g. --map 'Customer Email=email'")
            }
            let sourceName = String(mapping[..<equals])
            let target = String(mapping[mapping.index(after: equals)...])
            if let earlier = options.columnMap[sourceName], earlier != target {
                throw ValidationError("--map \(sourceName)=\(target): \(sourceName) is mapped to \(earlier) already")
            }
            options.columnMap[sourceName] = target
        }
        options.valueTables = try ValueTableFlags.tables(values)
        if let dateFormat {
            do { options.dateFormat = try DateFormat(pattern: dateFormat) } catch {
                throw ValidationError(error.localizedDescription)
            }
        }
        if let action { options.action = action }
        if let from {
            do { options = try from.applying(to: options, unknownColumnsGiven: unknownColumns != nil) } catch {
                throw ValidationError(error.localizedDescription)
            }
        }
        if let quantity { options.quantityMeaning = quantity }
        if let targetMetadata {
            guard !targetMetadata.trimmingCharacters(in: .whitespaces).isEmpty, targetMetadata.count <= 256 else {
                throw ValidationError("--target-metadata must be a metadata key of 1–256 characters")
            }
            options.targetMetadata = targetMetadata
        }
        return options
    }
}

import ArgumentParser
import CryptlexModels
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
            guard let entry = try? JSONDecoder().decode(Entry.self, from: Data(flag.utf8)), !entry.set.isEmpty else {
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
            "Read another system's export: keygen (a Keygen license list, JSON:API) or cryptlex (a GET /v3/licenses array); the mapping and value tables then apply.",
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
        help: "What to do with a column that is not a license field: error, metadata (send it as metadata) or ignore.")
    var unknownColumns: UnknownColumnPolicy = .error

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
        var options = IngestOptions(
            format: format ?? (from == nil ? nil : .ndjson), delimiter: delimiter?.byte,
            idColumn: idColumn ?? from?.idColumn, defaults: defaults, unknownColumns: unknownColumns, timeZone: zone)
        options.source = from
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
        if let targetMetadata {
            guard !targetMetadata.trimmingCharacters(in: .whitespaces).isEmpty, targetMetadata.count <= 256 else {
                throw ValidationError("--target-metadata must be a metadata key of 1–256 characters")
            }
            options.targetMetadata = targetMetadata
        }
        return options
    }
}

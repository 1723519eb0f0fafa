import ArgumentParser
import Ingestion

/// The flags that say how to read and map an order file, shared by every command that reads one.
struct InputOptions: ParsableArguments {
    @Argument(help: "The order file: .csv, .json (an array of objects) or .ndjson; - reads standard input.")
    var file: String

    @Option(help: "The input format, when the extension does not say: csv, json or ndjson.")
    var format: String?

    @Option(help: "The CSV delimiter: , ; or \\t (tab). Default: , or what a first line sep=X says.")
    var delimiter: String?

    @Option(help: "The column that identifies a row across runs (an order id). Without it a row is identified by its position.")
    var idColumn: String?

    @Option(help: "The product for every row that has no productId column value.")
    var productId: String?

    @Option(help: "The license template for every row that has no licenseTemplateId value.")
    var licenseTemplateId: String?

    @Option(name: .customLong("set"), help: ArgumentHelp("A value for every row, FIELD=VALUE (repeatable; a value in the row wins).", valueName: "FIELD=VALUE"))
    var assignments: [String] = []

    @Option(help: "What to do with a column that is not a license field: error, metadata (send it as metadata) or ignore.")
    var unknownColumns: String = "error"

    @Option(help: ArgumentHelp("Read date-times written without a zone (2015-05-01T11:16:16) in this zone: UTC, an offset such as +02:00, or an IANA name such as Europe/Berlin. Without it they are refused.", valueName: "ZONE"))
    var timeZone: String?

    /// The options as Ingestion takes them; throws a usage error naming the bad flag.
    @Option(help: ArgumentHelp("A TOML file of flags (keys are the long flags: api-url, id-column, concurrency, set = [...], sections [run], [validate], …); flags on the command line win. Default: LICPROV_CONFIG.", valueName: "FILE"))
    var config: String?

    @Option(help: ArgumentHelp("What every row without an action column does: create (default), update, renew, set-expiry, suspend, unsuspend, revoke, unrevoke or delete.", valueName: "ACTION"))
    var action: String?

    @Option(help: ArgumentHelp("Rows that change a license find it by the metadata entry NAME, whose value is the row's NAME column (or its id, when NAME is the --id-column: licprov keeps the id on every license it creates).", valueName: "NAME"))
    var targetMetadata: String?

    func ingestOptions() throws -> IngestOptions {
        var format: InputFormat?
        if let name = self.format {
            guard let parsed = InputFormat(rawValue: name.lowercased()) else {
                throw ValidationError("--format \(name): expected csv, json or ndjson")
            }
            format = parsed
        }
        var delimiter: UInt8?
        if let text = self.delimiter {
            switch text {
            case ",": delimiter = UInt8(ascii: ",")
            case ";": delimiter = UInt8(ascii: ";")
            case "\\t", "\t", "tab": delimiter = UInt8(ascii: "\t")
            case "|": delimiter = UInt8(ascii: "|")
            default: throw ValidationError("--delimiter \(text): expected , ; | or \\t")
            }
        }
        guard let policy = UnknownColumnPolicy(rawValue: unknownColumns) else {
            throw ValidationError("--unknown-columns \(unknownColumns): expected error, metadata or ignore")
        }
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
            do { zone = try LocalTimeZone(parsing: timeZone) } catch { throw ValidationError(error.localizedDescription) }
        }
        var options = IngestOptions(format: format, delimiter: delimiter, idColumn: idColumn, defaults: defaults, unknownColumns: policy, timeZone: zone)
        if let action {
            guard let parsed = LicenseAction(text: action) else { throw ValidationError("--action \(action): expected one of \(LicenseAction.names)") }
            options.action = parsed
        }
        if let targetMetadata {
            guard !targetMetadata.trimmingCharacters(in: .whitespaces).isEmpty, targetMetadata.count <= 256 else {
                throw ValidationError("--target-metadata must be a metadata key of 1–256 characters")
            }
            options.targetMetadata = targetMetadata
        }
        return options
    }
}

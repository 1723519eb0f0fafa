import ArgumentParser
import Foundation
import Ingestion
import TOMLKit

/// `--config FILE` (or `LICPROV_CONFIG`): a TOML file whose keys are the commands' long flags.
///
/// ```toml
/// api-url = "https://api.cryptlex.com"
/// token-file = "/run/secrets/cryptlex-token"
/// id-column = "order_id"
/// time-zone = "Europe/Berlin"
/// set = ["allowedActivations=2", "metadata.source=shop"]
///
/// [run]
/// concurrency = 8
/// metrics-file = "/var/lib/node_exporter/textfile/licprov.prom"
/// ```
///
/// A `[job]` table (`command`, `file`) is what `licprov job CONFIG` runs (``JobCommand``).
/// Top-level keys go to every command that has the flag; a `[run]`, `[validate]`, `[status]`,
/// `[export]`, `[audit]`, `[undo]`, `[plan]` or `[apply]` table to that command only. The file's values are placed
/// before the command line's, so a flag given on the command line wins (a repeatable one, such as
/// `set`, adds to the file's). A key no command knows is an error with its line and the nearest
/// known key; so is a key for the token itself: the token is read from the environment or
/// `token-file`, never from a config file.
enum ConfigFile {
    struct Problem: Error, CustomStringConvertible {
        var description: String
    }

    /// The command's long flags, as its help shows them.
    static func flags(of command: ParsableCommand.Type) -> Set<String> {
        Set(command.helpMessage(columns: 10_000).matches(of: /--([a-z0-9][a-z0-9-]*)/).map { String($0.1) })
            .subtracting(["help", "version", "config"])
    }

    static let commands: [String: ParsableCommand.Type] = [
        "run": RunCommand.self, "validate": ValidateCommand.self, "status": StatusCommand.self,
        "export": ExportCommand.self,
        "audit": AuditCommand.self, "undo": UndoCommand.self, "report": ReportCommand.self,
        "doctor": DoctorCommand.self,
        "plan": PlanCommand.self, "apply": ApplyCommand.self,
    ]

    /// A config file's `[job]`: what `licprov job CONFIG` runs (``JobCommand``).
    struct Job: Equatable {
        /// `run` or `apply`.
        var command: String
        var file: String

        static let commands = ["apply", "run"]
    }

    /// `job CONFIG [FLAG…]` written out as the command its `[job]` table names: `COMMAND FILE
    /// --config CONFIG [--yes] [FLAG…]` (`--yes` for apply). Other arguments, and `job` without a
    /// CONFIG (its help, or ArgumentParser's "missing CONFIG"), come back unchanged.
    static func expandJob(_ arguments: [String]) throws -> [String] {
        guard arguments.first == "job", arguments.count >= 2, !arguments[1].hasPrefix("-") else { return arguments }
        let path = arguments[1]
        let (table, text) = try read(path)
        guard let job = try job(in: table, path: path, text: text) else {
            throw Problem(
                description:
                    "\(path): licprov job needs a [job] table: command = \"apply\" (or \"run\") and file = \"/path/to/export.csv\""
            )
        }
        return [job.command, job.file, "--config", path] + (job.command == "apply" ? ["--yes"] : [])
            + arguments.dropFirst(2)
    }

    /// The file's `[job]` table, checked (nil when it has none).
    static func job(in table: TOMLTable, path: String, text: String) throws -> Job? {
        guard let value = table["job"] else { return nil }
        guard let section = value.table else { throw Problem(description: "\(path): job must be a table: [job]") }
        func at(_ key: String) -> String { "\(path)\(lineOf(key, section: "job", in: text).map { ":\($0)" } ?? "")" }
        for key in section.keys where !["command", "file"].contains(key) {
            throw Problem(
                description:
                    "\(at(key)): [job] \(key) is not a setting: a job has command and file. Every key after [job] belongs to it, so write the flags above [job] (or in [run] / [apply])"
            )
        }
        guard let command = section["command"]?.string, Job.commands.contains(command) else {
            throw Problem(
                description:
                    "\(at("command")): [job] command must be \"apply\" (make the account equal the file) or \"run\" (send the file's rows)"
            )
        }
        guard let file = section["file"]?.string, !file.isEmpty else {
            throw Problem(
                description:
                    "\(at("file")): [job] file must name the export to read, e.g. file = \"/srv/exports/nightly.csv\"")
        }
        return Job(command: command, file: file)
    }

    /// The file's table and text; a file that cannot be read or parsed is a ``Problem`` naming its line.
    private static func read(_ path: String) throws -> (TOMLTable, String) {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw Problem(description: "cannot read the config file \(path)")
        }
        do {
            return (try TOMLTable(string: text), text)
        } catch let error as TOMLParseError {
            throw Problem(description: "\(path):\(error.source.begin.line): \(error.description)")
        }
    }

    /// The arguments with the config file's flags inserted after the subcommand's name: from
    /// `--config FILE` among `arguments`, else `LICPROV_CONFIG`; unchanged without either.
    static func expand(_ arguments: [String], environment: [String: String] = ProcessInfo.processInfo.environment)
        throws -> [String]
    {
        guard let commandIndex = arguments.firstIndex(where: { commands[$0] != nil }) else { return arguments }
        var rest = Array(arguments[(commandIndex + 1)...])
        var path = environment["LICPROV_CONFIG"].flatMap { $0.isEmpty ? nil : $0 }
        if let index = rest.firstIndex(where: { $0 == "--config" || $0.hasPrefix("--config=") }) {
            if rest[index] == "--config" {
                guard index + 1 < rest.count else { throw Problem(description: "--config needs a FILE") }
                path = rest[index + 1]
                rest.removeSubrange(index...(index + 1))
            } else {
                path = String(rest[index].dropFirst("--config=".count))
                rest.remove(at: index)
            }
        }
        guard let path else { return arguments }
        let command = arguments[commandIndex]
        let inserted = try flags(fromFile: path, for: command)
        return Array(arguments[...commandIndex]) + inserted + rest
    }

    /// The flags the file gives `command`.
    static func flags(fromFile path: String, for command: String) throws -> [String] {
        let (table, text) = try read(path)
        // [job] is what `licprov job` runs (checked here too, so a mistake in it is found by any command).
        _ = try job(in: table, path: path, text: text)
        let known = commands.mapValues(flags(of:))
        let everyFlag = known.values.reduce(into: Set<String>()) { $0.formUnion($1) }
        var result: [String] = []
        func place(_ key: String, _ value: TOMLValueConvertible, section: String?) throws {
            let line = lineOf(key, section: section, in: text)
            let at = "\(path)\(line.map { ":\($0)" } ?? "")"
            if ["token", "access-token", "cryptlex-access-token"].contains(key.lowercased()) {
                throw Problem(
                    description:
                        "\(at): \(key): the token is never read from a config file; use token-file or CRYPTLEX_ACCESS_TOKEN"
                )
            }
            let scope = section.map { known[$0] ?? [] } ?? everyFlag
            guard scope.contains(key) else {
                let hint = nearest(key, in: scope).map { "; did you mean \($0)?" } ?? ""
                throw Problem(
                    description:
                        "\(at): \(key) is not a flag of \(section.map { "licprov \($0)" } ?? "any licprov command")\(hint)"
                )
            }
            // A top-level key applies to the commands that have the flag.
            guard known[command]?.contains(key) == true else { return }
            result += try arguments(for: key, value, at: at)
        }
        for key in table.keys.sorted(by: {
            (lineOf($0, section: nil, in: text) ?? 0) < (lineOf($1, section: nil, in: text) ?? 0)
        }) {
            guard key != "job", let value = table[key] else { continue }
            if let profile = try profileFlags(key, value, path: path, text: text) {
                // A file's columns, value tables and dates: for the commands that read files.
                if known[command]?.contains("map") == true { result += profile }
                continue
            }
            if value.type == .table {
                guard known[key] != nil, let section = value.table else {
                    throw Problem(
                        description:
                            "\(path): [\(key)] is not a command; the sections are \(commands.keys.sorted().map { "[\($0)]" }.joined(separator: ", "))"
                    )
                }
                guard key == command else {
                    for inner in section.keys {
                        try validateOnly(inner, section: key, known: known, path: path, text: text)
                    }
                    continue
                }
                for inner in section.keys.sorted(by: {
                    (lineOf($0, section: key, in: text) ?? 0) < (lineOf($1, section: key, in: text) ?? 0)
                }) {
                    if let innerValue = section[inner] { try place(inner, innerValue, section: key) }
                }
            } else {
                try place(key, value, section: nil)
            }
        }
        return result
    }

    /// `[columns]`, `[values.COLUMN]` and `[dates]`: how to read a reseller's or another system's
    /// file, as `--map`, `--value` and `--date-format`/`--time-zone` flags (nil: not one of these).
    ///
    /// ```toml
    /// [columns]
    /// "Customer Email" = "email"
    ///
    /// [values.Plan]
    /// Pro = { licenseTemplateId = "tmpl-pro", "metadata.plan" = "pro" }
    ///
    /// [dates]
    /// format = "dd/MM/yyyy"
    ///
    /// [group]                      # an export with an order's own columns on its first line only
    /// by = "Name"
    /// fill-down = ["Email", "Financial Status"]
    ///
    /// [id]                         # the id made of columns: #1001/DESK-PRO-1Y
    /// columns = ["Name", "Lineitem sku"]
    /// ```
    static func profileFlags(_ key: String, _ value: TOMLValueConvertible, path: String, text: String) throws
        -> [String]?
    {
        guard ["columns", "values", "dates", "group", "id"].contains(key) else { return nil }
        guard let section = value.table else { throw Problem(description: "\(path): \(key) must be a table: [\(key)]") }
        var flags: [String] = []
        switch key {
        case "columns":
            for source in section.keys.sorted(by: {
                (lineOf($0, section: "columns", in: text) ?? 0) < (lineOf($1, section: "columns", in: text) ?? 0)
            }) {
                guard let target = section[source]?.string else {
                    throw Problem(
                        description:
                            "\(path)\(lineOf(source, section: "columns", in: text).map { ":\($0)" } ?? ""): [columns] \(source): write the target as a string, e.g. \"\(source)\" = \"email\""
                    )
                }
                flags += ["--map", "\(source)=\(target)"]
            }
        case "group", "id":
            for name in section.keys.sorted() {
                let allowed: [String: String] =
                    key == "group" ? ["by": "--group-by", "fill-down": "--fill-down"] : ["columns": "--id-of"]
                guard let flag = allowed[name] else {
                    throw Problem(
                        description:
                            "\(path): [\(key)] \(name) is not a setting; use \(allowed.keys.sorted().joined(separator: " or "))"
                    )
                }
                if let single = section[name]?.string {
                    flags += [flag, single]
                } else if let list = section[name]?.array, name != "by" {
                    for element in Array(list) {
                        guard let item = element.string else {
                            throw Problem(description: "\(path): [\(key)] \(name) holds column names (strings)")
                        }
                        flags += [flag, item]
                    }
                } else {
                    throw Problem(
                        description:
                            "\(path): [\(key)] \(name) must be \(name == "by" ? "a column name" : "a list of column names")"
                    )
                }
            }
        case "dates":
            for name in section.keys.sorted() {
                guard let setting = section[name]?.string else {
                    throw Problem(description: "\(path): [dates] \(name) must be a string")
                }
                switch name {
                case "format": flags += ["--date-format", setting]
                case "time-zone", "zone": flags += ["--time-zone", setting]
                default:
                    throw Problem(description: "\(path): [dates] \(name) is not a setting; use format or time-zone")
                }
            }
        default:
            for column in section.keys.sorted() {
                guard let entries = section[column]?.table else {
                    throw Problem(
                        description: "\(path): [values.\(column)] must be a table of VALUE = { FIELD = VALUE, … }")
                }
                for entryValue in entries.keys.sorted() {
                    guard let fields = entries[entryValue]?.table else {
                        throw Problem(
                            description:
                                "\(path): [values.\(column)] \(entryValue) must be an inline table, e.g. \(entryValue) = { licenseTemplateId = \"…\" }"
                        )
                    }
                    var set: [String: Any] = [:]
                    for field in fields.keys {
                        guard let cell = fields[field] else { continue }
                        switch cell.type {
                        case .string: set[field] = cell.string ?? ""
                        case .int: set[field] = cell.int ?? 0
                        case .double: set[field] = cell.double ?? 0
                        case .bool: set[field] = cell.bool ?? false
                        default:
                            throw Problem(
                                description:
                                    "\(path): [values.\(column)] \(entryValue): \(field) must be a string, a number or true/false"
                            )
                        }
                    }
                    let json = try JSONSerialization.data(
                        withJSONObject: ["column": column, "value": entryValue, "set": set], options: [.sortedKeys])
                    flags += ["--value", String(decoding: json, as: UTF8.self)]
                }
            }
        }
        return flags
    }

    private static func validateOnly(
        _ key: String, section: String, known: [String: Set<String>], path: String, text: String
    ) throws {
        guard known[section]?.contains(key) == true else {
            let at = "\(path)\(lineOf(key, section: section, in: text).map { ":\($0)" } ?? "")"
            let hint = nearest(key, in: known[section] ?? []).map { "; did you mean \($0)?" } ?? ""
            throw Problem(description: "\(at): \(key) is not a flag of licprov \(section)\(hint)")
        }
    }

    private static func arguments(for key: String, _ value: TOMLValueConvertible, at: String) throws -> [String] {
        switch value.type {
        case .bool: return value.bool == true ? ["--\(key)"] : []
        case .string: return ["--\(key)", value.string ?? ""]
        case .int: return ["--\(key)", String(value.int ?? 0)]
        case .double: return ["--\(key)", String(value.double ?? 0)]
        case .array:
            return try (value.array.map(Array.init) ?? []).flatMap { element -> [String] in
                guard element.type != .array && element.type != .table && element.type != .bool else {
                    throw Problem(description: "\(at): \(key): a list holds strings or numbers")
                }
                return try arguments(for: key, element, at: at)
            }
        default:
            throw Problem(description: "\(at): \(key): write it as a string, a number, true/false or a list")
        }
    }

    /// The line a key is on (in `[section]` when given): the first `key =` after the section header.
    static func lineOf(_ key: String, section: String?, in text: String) -> Int? {
        var inSection = section == nil
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("[") {
                inSection = section.map { line == "[\($0)]" } ?? false
                continue
            }
            guard inSection else { continue }
            let name = line.split(separator: "=", maxSplits: 1).first.map {
                $0.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\"'"))
            }
            if name == key { return index + 1 }
        }
        return nil
    }

    /// The known key within a few edits of `key`.
    static func nearest(_ key: String, in known: Set<String>) -> String? {
        NearestName.find(key, among: known)
    }
}

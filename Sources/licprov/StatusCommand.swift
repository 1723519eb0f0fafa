import ArgumentParser
import Audit
import CryptlexModels
import Foundation
import Journal
import Provisioning
import Results

/// Which journal a `status` or `export` reads: named, or the one beside the order file.
struct JournalLocation: ParsableArguments {
    @Argument(help: "The order file whose journal to read (its journal is FILE.licprov.sqlite).")
    var file: String?

    @Option(help: "The journal file itself.")
    var journal: String?

    func path() throws -> String {
        if let journal { return journal }
        guard let file else { throw ValidationError("name the order file, or the journal with --journal") }
        return RunConfiguration.defaultJournalPath(for: file)
    }
}

/// `licprov status FILE`: counts by state, the last run, what a rerun would do.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show what a journal holds and what rerunning the same file would do; sends nothing."
    )

    @OptionGroup var location: JournalLocation

    @Flag(
        help:
            "Print the status as one JSON object (counts by state, by action and state, customers, organizations and resellers, the last run, what a rerun would do)."
    )
    var json = false

    func run() async throws {
        let path = try location.path()
        let status: JournalReport.Status
        do {
            status = try JournalReport.status(journalPath: path)
        } catch {
            Output.error(error.localizedDescription)
            throw ExitStatus.for(error).exitCode
        }
        if json { return Output.resultJSON(Self.object(status, path: path)) }
        Output.result("journal: \(path)")
        Output.result("licenses: \(status.total)")
        for state in JournalEntry.State.allCases {
            let count = status.counts[state, default: 0]
            if count > 0 { Output.result("  \(state.rawValue): \(count)") }
        }
        if status.editedSinceCreated > 0 {
            Output.result("  created, row edited since (conflict): \(status.editedSinceCreated)")
        }
        if !status.changes.isEmpty {
            // Of those, changes to existing licenses (created/recovered: applied).
            Output.result("changes to existing licenses (included above):")
            for (action, counts) in status.changes.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
                let applied = counts[.created, default: 0] + counts[.recovered, default: 0]
                let rest = JournalEntry.State.allCases.filter { !$0.isSettled && counts[$0, default: 0] > 0 }.map {
                    "\(counts[$0]!) \($0.rawValue)"
                }
                Output.result(
                    "  \(action.rawValue): \(applied) applied"
                        + (rest.isEmpty ? "" : ", " + rest.joined(separator: ", ")))
            }
        }
        for kind in DirectoryEntry.Kind.allCases.reversed() {
            guard let counts = status.directory[kind], !counts.isEmpty else { continue }
            Output.result(
                "\(kind.rawValue)s: "
                    + counts.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.value) \($0.key.rawValue)" }
                    .joined(separator: ", "))
        }
        if !status.customers.isEmpty {
            Output.result(
                "customers: "
                    + status.customers.sorted { $0.key.rawValue < $1.key.rawValue }.map {
                        "\($0.value) \($0.key.rawValue)"
                    }.joined(separator: ", "))
        }
        if let run = status.lastRun {
            Output.result(
                "last run: #\(run.id) started \(run.startedAt)\(run.endedAt.map { ", ended \($0)" } ?? ", did not end (killed?)")"
                    + "\(run.outcome.map { ": \($0)" } ?? "")")
            if let summary = run.summary { Output.result("  \(summary)") }
            Output.result("  command: \(run.command)")
        }
        Output.result(
            "a rerun of the same file would look up \(status.toLookUp), send \(status.toSend), "
                + "and leave \(status.heldBack) rejected or conflicting ones alone unless their rows change")
    }
}

extension StatusCommand {
    /// The status as `--json` prints it.
    static func object(_ status: JournalReport.Status, path: String) -> [String: Any] {
        func byName<Key: RawRepresentable>(_ counts: [Key: Int]) -> [String: Int] where Key.RawValue == String {
            Dictionary(uniqueKeysWithValues: counts.filter { $0.value > 0 }.map { ($0.key.rawValue, $0.value) })
        }
        var object: [String: Any] = [
            "journal": path, "licenses": status.total, "states": byName(status.counts),
            "editedSinceCreated": status.editedSinceCreated,
            "changes": Dictionary(uniqueKeysWithValues: status.changes.map { ($0.key.rawValue, byName($0.value)) }),
            "customers": byName(status.customers),
            "directory": Dictionary(uniqueKeysWithValues: status.directory.map { ($0.key.rawValue, byName($0.value)) }),
            "rerun": ["lookUp": status.toLookUp, "send": status.toSend, "heldBack": status.heldBack],
        ]
        if let run = status.lastRun {
            object["lastRun"] =
                [
                    "id": run.id, "startedAt": run.startedAt, "endedAt": run.endedAt ?? NSNull(),
                    "outcome": run.outcome ?? NSNull(),
                    "summary": run.summary ?? NSNull(), "command": run.command, "version": run.version,
                ] as [String: Any]
        }
        return object
    }
}

/// `licprov export FILE`: the results CSV from the journal alone.
struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Rebuild the results CSV from the journal alone; sends nothing."
    )

    @OptionGroup var location: JournalLocation

    @Option(name: .shortAndLong, help: "Where to write the CSV (default: standard output).")
    var output = "-"

    @OptionGroup var marker: MarkerKeyOption

    func run() async throws {
        do {
            let path = try location.path()
            let markerKey = try marker.choice().resolve(journalPath: path)
            if output == "-" {
                var batch: [ResultsFile.Line] = []
                var first = true
                func emit() {
                    StandardStream.output.write(ResultsFile.encode(batch, header: first))
                    first = false
                    batch.removeAll(keepingCapacity: true)
                }
                try JournalReport.export(journalPath: path, markerKey: markerKey) { line in
                    batch.append(line)
                    if batch.count == 4096 { emit() }
                }
                emit()
            } else {
                let writer = try ResultsFile.Writer(path: output)
                try JournalReport.export(journalPath: path, markerKey: markerKey) { try writer.append($0) }
                try writer.commit()
            }
        } catch let error as ValidationError {
            throw error
        } catch {
            Output.error(error.localizedDescription)
            throw ExitStatus.for(error).exitCode
        }
    }
}

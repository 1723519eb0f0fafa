import ArgumentParser
import FileFormats
import Foundation
import Ingestion
import Provisioning

/// `licprov validate FILE`: every problem at once, nothing sent.
struct ValidateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check an order file against the API's constraints; sends nothing.",
        discussion: """
            Prints each problem as FILE:LINE: FIELD: MESSAGE, then a summary. Exit 0 when the file is \
            clean, 65 when it has problems, 66 when it cannot be read.
            """
    )

    @OptionGroup var input: InputOptions

    @Option(help: "List at most this many problems (0: all).")
    var maxProblems = 100

    func validate() throws {
        try FlagRange.check("max-problems", maxProblems, FlagRange.maxProblems)
    }

    func run() async throws {
        let options = try input.ingestOptions()
        let report: FileValidation.Report
        do {
            report = try FileValidation.validate(path: input.file, options: options, limit: max(0, maxProblems))
        } catch let error as IngestionError {
            Output.error(error.localizedDescription)
            throw ExitStatus.for(error).exitCode
        }
        for diagnostic in report.listed { Output.result(diagnostic.description) }
        for (reason, rows) in report.skipReasons {
            Output.result("skipped: \(rows) \(rows == 1 ? "row" : "rows"): \(reason)")
        }
        if report.total > report.listed.count {
            Output.result("(and \(report.total - report.listed.count) more; pass --max-problems 0 to list them all)")
        }
        let summary = report.summary
        let name = input.file == "-" ? "<stdin>" : input.file
        Output.result(
            "\(name): \(summary.rows) rows, \(summary.validRows) valid, \(summary.licenses) licenses to create, "
                + (summary.changes > 0 ? "\(summary.changes) changes to existing licenses, " : "")
                + (summary.skipped > 0 ? "\(summary.skipped) skipped, " : "")
                + "\(summary.errors) \(summary.errors == 1 ? "error" : "errors"), \(summary.warnings) \(summary.warnings == 1 ? "warning" : "warnings")"
        )
        if !summary.isClean { throw ExitStatus.invalidInput.exitCode }
    }
}

import ArgumentParser
import Doctor
import Foundation
import Provisioning

/// `licprov doctor`: checks an account before the first run against it.
struct DoctorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract:
            "Check an account before a first run: the token and its write scopes, the product, the list filters licprov relies on, the rate-limit headers and the server's clock. Read-only unless --write-probe.",
        discussion: """
            About a dozen requests, none of which can change the account: the write scopes are told apart by \
            creates with an empty body, which the API refuses with 400 when the scope is there and 403 when \
            it is not. --write-probe also creates one license (marked, for --product-id), times how long the \
            list takes to show it — the search lag that --reconcile-delay must exceed — and deletes it; its \
            intent is written to --probe-file first, so a probe a crash left behind is deleted by the next doctor. \
            --write-config writes what was found (the recommended --reconcile-delay) as a file for --config.

            Exit 0: everything as licprov needs it · 1: warnings (a filter refused, a scope or product missing, …) · \
            69: the API cannot be reached · 77: the token is refused or lacks license:read or license:write.
            """
    )

    @OptionGroup var connection: ConnectionOptions

    @Option(
        help: "The product the runs will create licenses for: checked to exist; the write probe's license goes there.")
    var productId: String?

    @Flag(help: "Create one marked license, time how long the list takes to show it, and delete it.")
    var writeProbe = false

    @Option(
        help: ArgumentHelp(
            "Where the write probe's intent is kept until its license is deleted (default: $XDG_STATE_HOME/licprov/doctor-probe.json, else ~/.local/state/licprov/).",
            valueName: "PATH"))
    var probeFile: String?

    @Option(
        help: ArgumentHelp(
            "Write what was found (the recommended --reconcile-delay) to this TOML file, for --config.",
            valueName: "PATH"))
    var writeConfig: String?

    @OptionGroup var marker: MarkerKeyOption

    @Flag(help: "Print the diagnosis as one JSON object.")
    var json = false

    func validate() throws {
        if writeProbe && productId == nil {
            throw ValidationError("--write-probe needs --product-id: the probe license is created for a product")
        }
    }

    func run() async throws {
        _ = Diagnostics.bootstrap(level: .error, format: .text)
        let client = try connection.client(connections: 2)
        var options = AccountDoctor.Options(probeFile: probeFile ?? Self.defaultProbeFile())
        options.productID = productId
        options.writeProbe = writeProbe
        options.markerKey = marker.markerKey ?? RunConfiguration.defaultMarkerKey
        let report = await AccountDoctor(client: client, options: options).diagnose()
        try? await client.shutdown()
        if let writeConfig {
            do {
                try Data(Self.config(report).utf8).write(to: URL(fileURLWithPath: writeConfig), options: .atomic)
            } catch {
                Output.error("cannot write \(writeConfig): \(error.localizedDescription)")
                throw ExitStatus.journalFailure.exitCode
            }
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            Output.resultBytes(Array((try? encoder.encode(report)) ?? Data()) + [UInt8(ascii: "\n")])
        } else {
            Output.result("licprov doctor: \(report.apiURL)")
            let width = report.checks.map(\.name.count).max() ?? 0
            for check in report.checks {
                Output.result(
                    "  \(check.status.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0)) \(check.name.padding(toLength: width, withPad: " ", startingAt: 0))  \(check.detail)"
                )
            }
            if let delay = report.recommendedReconcileDelay {
                Output.result(
                    "recommended: --reconcile-delay \(AccountDoctor.seconds(delay))"
                        + (writeConfig.map { " (written to \($0); pass it with --config)" } ?? ""))
            }
            Output.result(report.warnings == 0 ? "all good" : "\(report.warnings) to look at")
        }
        let status: ExitStatus =
            report.unreachable
            ? .apiUnreachable : report.accessDenied ? .accessDenied : report.warnings > 0 ? .rowsFailed : .success
        throw status.exitCode
    }

    static func defaultProbeFile(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        let state =
            environment["XDG_STATE_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? (NSHomeDirectory() + "/.local/state")
        return state + "/licprov/doctor-probe.json"
    }

    /// The findings as a config file for `--config`: top-level keys reach run and undo alike.
    static func config(_ report: AccountDoctor.Report) -> String {
        var lines = [
            "# Written by licprov doctor for \(report.apiURL) on \(ISO8601DateFormatter().string(from: Date())).",
            "# Pass it to run and undo with --config (keys given on the command line win).",
        ]
        for check in report.checks where check.status != .ok {
            lines.append("# \(check.status.rawValue): \(check.name): \(check.detail)")
        }
        if let lag = report.searchLagMilliseconds, let delay = report.recommendedReconcileDelay {
            lines.append("# The search showed a new license after \(lag) ms.")
            lines.append("reconcile-delay = \(delay)")
        } else {
            lines.append("# Run doctor --write-probe to measure the search lag and set reconcile-delay.")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

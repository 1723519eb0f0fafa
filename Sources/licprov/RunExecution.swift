import ArgumentParser
import Foundation
import Provisioning
import Scheduling

/// One journaled run, as every command that sends makes it: `run` for a file, and the runs
/// `apply`, `undo` and `audit --fix-duplicates` derive — the same client, signals, progress,
/// summary, metrics file and exit status, from the same ``SendingOptions``.
enum RunExecution {
    /// Runs `configuration` (its input, journal and results already chosen by the command) against
    /// the account; the summary on stdout, the metrics file when asked for. Returns the run's exit
    /// status; throws only the exit code of a usage error found before anything was read.
    static func perform(
        _ configuration: RunConfiguration, account: AccountOptions, sending: SendingOptions,
        metricsLabel: String
    ) async throws -> ExitStatus {
        let logger = Diagnostics.bootstrap(level: sending.logLevel.level, format: sending.logFormat)
        let progressMode = sending.progress ?? .automatic
        // Checked before the file is read: a missing token or a bad URL, proxy or CA file is a usage error.
        let client = try account.connection.client(
            connections: sending.concurrency + 1,
            requestTimeout: Duration(secondsValue: sending.requestTimeout),
            logger: logger, needsToken: !configuration.dryRun)
        var configuration = configuration
        configuration.rate = account.rate == 0 ? nil : account.rate
        sending.configure(&configuration)
        let writesMetrics = sending.metricsFile.map { path in configuration.dryRun ? nil : path } ?? nil

        let stop = StopSignal()
        let provisioning = ProvisioningRun(configuration: configuration, client: client, stop: stop, logger: logger)
        let reporter = progressMode.reporter()
        // Signals are trapped before the run starts: a Ctrl-C while the file is read is a stop, not a death.
        let running = CancellableTask()
        let signals = await SignalTrap.watch { count in
            if count == 1 {
                if stop.request(.interrupted) {
                    Output.error(
                        "stopping: no new requests; waiting for those in flight (press Ctrl-C again to stop at once)")
                }
            } else {
                Output.error(
                    "stopping at once; the journal stays consistent and the next run looks up what was in flight")
                running.cancel()
            }
        }
        defer { signals.cancel() }
        let task = Task { try await provisioning.execute(progress: reporter, progressInterval: progressMode.interval) }
        running.set(task)
        let report: ProvisioningRun.Report
        do {
            report = try await task.value
        } catch {
            try? await client.shutdown()
            Output.error(error.localizedDescription)
            let status = ExitStatus.for(error)
            if let writesMetrics {
                MetricsFile.write(to: writesMetrics, report: nil, status: status, input: metricsLabel)
            }
            return status
        }
        try? await client.shutdown()
        let status = RunSummary.print(
            report, command: configuration.commandLine, maxProblems: sending.maxProblems, json: sending.json)
        if let writesMetrics {
            MetricsFile.write(to: writesMetrics, report: report, status: status, input: metricsLabel)
        }
        return status
    }

    /// The command line as the journal records it (no secret is ever on it: the token comes from
    /// the environment or a file).
    static var commandLine: String { (["licprov"] + CommandLine.arguments.dropFirst()).joined(separator: " ") }
}

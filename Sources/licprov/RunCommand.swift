import ArgumentParser
import CryptlexAPI
import CryptlexModels
import Foundation
import Logging
import Provisioning
import Scheduling

/// `licprov run FILE`: create every valid row's licenses, exactly once, resumably.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Create the licenses an order file asks for, journaled so that a rerun resumes without duplicates.",
        discussion: """
        The token comes from CRYPTLEX_ACCESS_TOKEN or --token-file, never from the command line. \
        The journal (default FILE.licprov.sqlite) records every request before it is sent; run the \
        same command again after any interruption and only unfinished licenses are sent. \
        Results go to FILE.results.csv; the summary goes to stdout, progress and logs to stderr.

        Who a license belongs to: email, firstName, lastName, company (the customer's Cryptlex user, \
        found or created once per journal); organization.name, organization.email, \
        organization.allowedUsers, organization.description, organization.address.<field> (the end \
        customer's company); reseller.name, reseller.email, reseller.allowedUsers, \
        reseller.allowedOrganizations (the reseller the order came through; --set reseller.name=… for a \
        whole sheet). Organizations and resellers are found by name (any case) or created once per \
        journal, an organization under its reseller; users created for a row go into its organization \
        and reseller; the license links to all three, and the results file has organization_id and reseller_id. \
        An update row with an email moves its license to that customer (its PATCH sends the user's id).

        \(ExitStatus.helpText)
        """
    )

    @OptionGroup var input: InputOptions

    @Option(help: "The journal file (default: FILE.licprov.sqlite).")
    var journal: String?

    @Option(help: "The results CSV (default: FILE.results.csv).")
    var results: String?

    @Flag(help: "Send the valid rows of a file that has invalid ones; the invalid ones are reported as rejected.")
    var skipInvalid = false

    @Option(help: "Requests in flight at once.")
    var concurrency = 8

    @Option(help: "Requests per second, all workers together (default 9.6: under Cryptlex's 50 per 5 s with room for jitter); 0: no client-side limit.")
    var rate: Double = RunConfiguration.cryptlexRate

    @Option(help: "Requests that may go at once after a quiet spell.")
    var burst = 1

    @Option(help: "Requests per server rate-limit window (Cryptlex: 50 per 5 s): answers' X-Rate-Limit headers then decide, filling each window; --rate holds until they do and whenever they are missing. 0: the fixed --rate only.")
    var windowLimit = RunConfiguration.cryptlexWindowLimit

    @Option(help: "Backoff base in seconds: the delay before retry n is drawn from 0…min(cap, base·2^(n-1)).")
    var retryBase = 0.5

    @Option(help: "Backoff cap in seconds.")
    var retryCap = 30.0

    @Option(help: "Attempts per license, the first included.")
    var maxAttempts = 6

    @Option(help: "Seconds before one request times out.")
    var requestTimeout = 30.0

    @Option(help: "Seconds to wait after an ambiguous outcome (lost response, 5xx) before looking the license up; a lookup that finds nothing proves absence only once Cryptlex's search has caught up, so keep it above the search's lag.")
    var reconcileDelay = RunConfiguration.defaultReconcileDelay

    @OptionGroup var connection: ConnectionOptions

    @Flag(help: "Reject a row whose email has no Cryptlex user instead of creating the user.")
    var noCreateUsers = false

    @Option(help: "Stop the run once this many licenses have failed, been rejected or conflicted (0: never).")
    var maxFailures = 0

    @Option(name: .customLong("max-429s"), help: "Stop the run (exit 76) after this many 429 answers in a row, with no other answer between them.")
    var max429s = RunConfiguration.defaultMax429s

    @Option(help: "Stop the run (exit 76) when only 429s have come back for this many seconds.")
    var stallTimeout = RunConfiguration.defaultStallTimeout

    @Option(help: "Stop the run (exit 69, resumable) when requests have had no answer at all for this many seconds; 0: never.")
    var unreachableTimeout = RunConfiguration.defaultUnreachableTimeout

    @Option(help: "List at most this many problems when the file is refused.")
    var maxProblems = 20

    @Option(help: "Log level on stderr.")
    var logLevel: Logger.Level = .notice

    @Option(help: "Log format on stderr: text, or json (one object per line).")
    var logFormat: Diagnostics.Format = .text

    @Option(help: "Progress on stderr: bar (default on a terminal), plain (default otherwise), json or none.")
    var progress: Progress?

    @Flag(help: "Print the summary on stdout as one JSON object.")
    var json = false

    @Option(help: "The results file's columns: standard, or input: every column of the row as the file had it, then status, license_key, license_id, message.")
    var resultsColumns: RunConfiguration.ResultsColumns = .standard

    @Option(help: ArgumentHelp("At the end of every run, write its figures here in the Prometheus text format (for node_exporter's textfile collector; replaced atomically).", valueName: "PATH"))
    var metricsFile: String?

    @Flag(help: "Read and plan everything, show what would be sent and what a rerun would skip; send nothing, write nothing.")
    var dryRun = false

    func validate() throws {
        try FlagRange.check("concurrency", concurrency, FlagRange.concurrency)
        try FlagRange.check("rate", rate, FlagRange.rate, orZero: true)
        try FlagRange.check("burst", burst, FlagRange.burst)
        try FlagRange.check("window-limit", windowLimit, FlagRange.windowLimit, orZero: true)
        try FlagRange.check("max-attempts", maxAttempts, FlagRange.maxAttempts)
        try FlagRange.checkBackoff(base: retryBase, cap: retryCap)
        try FlagRange.check("request-timeout", requestTimeout, FlagRange.requestTimeout)
        try FlagRange.check("reconcile-delay", reconcileDelay, FlagRange.reconcileDelay)
        try FlagRange.check("max-failures", maxFailures, FlagRange.maxFailures)
        try FlagRange.check("max-problems", maxProblems, FlagRange.maxProblems)
        try FlagRange.check("max-429s", max429s, FlagRange.max429s)
        if resultsColumns == .input && input.file == "-" { throw ValidationError("--results-columns input reads the file again for its cells: give a file, not standard input") }
        try FlagRange.check("stall-timeout", stallTimeout, FlagRange.stallTimeout)
        try FlagRange.check("unreachable-timeout", unreachableTimeout, FlagRange.unreachableTimeout)
    }

    func run() async throws {
        let logger = Diagnostics.bootstrap(level: logLevel, format: logFormat)
        let progressMode = progress ?? .automatic
        let options = try input.ingestOptions()
        // Checked before the file is read: a missing token or a bad URL, proxy or CA file is a usage error.
        let client = try connection.client(connections: concurrency + 1, requestTimeout: Duration(secondsValue: requestTimeout),
                                           logger: logger, needsToken: !dryRun)
        var configuration = RunConfiguration(inputPath: input.file, ingest: options, journalPath: journal, resultsPath: results)
        configuration.skipInvalid = skipInvalid
        configuration.concurrency = concurrency
        configuration.rate = rate == 0 ? nil : rate
        configuration.burst = burst
        configuration.windowLimit = windowLimit == 0 ? nil : windowLimit
        configuration.retry = RetryPolicy(base: Duration(secondsValue: retryBase), cap: Duration(secondsValue: retryCap), maxAttempts: maxAttempts)
        configuration.markerKey = options.markerKey
        configuration.reconcileDelay = Duration(secondsValue: reconcileDelay)
        configuration.requestTimeout = Duration(secondsValue: requestTimeout)
        configuration.maxFailures = maxFailures
        configuration.max429s = max429s
        configuration.stallTimeout = Duration(secondsValue: stallTimeout)
        configuration.unreachableTimeout = Duration(secondsValue: unreachableTimeout)
        configuration.createUsers = !noCreateUsers
        configuration.keepIDAsMetadata = options.keepIDAsMetadata
        configuration.dryRun = dryRun
        configuration.resultsColumns = resultsColumns
        configuration.commandLine = (["licprov"] + CommandLine.arguments.dropFirst()).joined(separator: " ")
        if input.noMarker {
            Output.error("warning: --no-marker: a lost response can only be settled for rows with their own key; other rows may end up unresolved")
        }

        let stop = StopSignal()
        let provisioning = ProvisioningRun(configuration: configuration, client: client, stop: stop, logger: logger)
        let reporter = progressMode.reporter()
        // Signals are trapped before the run starts: a Ctrl-C while the file is read is a stop, not a death.
        let running = CancellableTask()
        let signals = await SignalTrap.watch { count in
            if count == 1 {
                if stop.request(.interrupted) {
                    Output.error("stopping: no new requests; waiting for those in flight (press Ctrl-C again to stop at once)")
                }
            } else {
                Output.error("stopping at once; the journal stays consistent and the next run looks up what was in flight")
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
            if let metricsFile, !dryRun { MetricsFile.write(to: metricsFile, report: nil, status: status, input: input.file) }
            throw status.exitCode
        }
        try? await client.shutdown()
        let status = RunSummary.print(report, command: configuration.commandLine, maxProblems: maxProblems, json: json)
        if let metricsFile, !dryRun { MetricsFile.write(to: metricsFile, report: report, status: status, input: input.file) }
        throw status.exitCode
    }
}

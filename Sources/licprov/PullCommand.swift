import APIRequests
import ArgumentParser
import Foundation
import Logging
import Provisioning
import Pull
import Scheduling

extension PullFormat: ExpressibleByArgument {}

/// `licprov pull`: the account's licenses as a file — to look at, to select, to edit and run
/// back, or to move to another account.
struct PullCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pull",
        abstract:
            "Write the account's licenses to a file (CSV, NDJSON, .xlsx, or the API's own JSON); changes nothing.",
        discussion: """
            Every license of the products, 100 a page, oldest first from a cursor (stable while \
            licenses are made or deleted), under the same rate limit and retries as run; each with its \
            user's email and name and its organization's and reseller's names, read in batches.

            With -o FILE the pull is resumable: killed, the same command continues from its last \
            page (FILE.pull.json, FILE.pull.ndjson); FILE appears whole once every page is in.

            --where conditions sent to the API: key, licenseId, user.email, organization.name and \
            reseller.name (=, the name looked up first), metadata.KEY (=), revoked, suspended, \
            createdAt, expiresAt. Any other field (allowedActivations<5, user.firstName=Ann) and != on \
            names and metadata are applied here, on every license the API returns. Dates: \
            2027-01-31 (midnight UTC) or a date-time.

            A pulled file is a change file: add an action column (or pass --action to run) and run \
            it; its rows name their licenses by licenseId, an update sends only what differs from \
            the account, and columns the action does not use are ignored.
            """)

    @Option(name: .customLong("product-id"), help: "A product whose licenses to pull (repeat for several).")
    var productIDs: [String] = []

    @Option(name: [.customShort("o"), .long], help: "The output file (default: standard output, not resumable).")
    var output: String?

    @Option(
        help:
            "csv, ndjson, xlsx (licprov's layout: one row per license, the columns run reads) or cryptlex (the API's own array, what run --from cryptlex reads). Default: by -o's extension (.csv, .ndjson, .xlsx, .json), else csv."
    )
    var format: PullFormat?

    @Option(
        name: .customLong("where"),
        help: ArgumentHelp(
            "Only licenses where FIELD=VALUE (also !=, <, >; repeat: all must hold). FIELD: a license field, user.email, user.firstName, user.lastName, organization.name, reseller.name, metadata.KEY, revoked, suspended, expiresAt, createdAt.",
            valueName: "FIELD=VALUE"))
    var conditions: [String] = []

    @OptionGroup var account: AccountOptions

    @Option(help: "Attempts per request, the first included.")
    var maxAttempts = 6

    @Option(help: "Seconds before one request times out.")
    var requestTimeout = 30.0

    @Option(help: "Log level on stderr.")
    var logLevel: LogLevel = .notice

    @Option(help: "Progress on stderr: plain (a line a page; bar means plain here), json or none.")
    var progress: Progress?

    @Flag(help: "Print the summary on stdout as one JSON object (then -o is needed for the licenses).")
    var json = false

    func validate() throws {
        guard !productIDs.isEmpty else { throw ValidationError("name the product to pull with --product-id ID") }
        try FlagRange.check("max-attempts", maxAttempts, FlagRange.maxAttempts)
        try FlagRange.check("request-timeout", requestTimeout, FlagRange.requestTimeout)
        if json && output == nil {
            throw ValidationError("--json prints the summary on standard output: write the licenses with -o FILE")
        }
        if let output, format == nil, PullFormat.of(path: output) == nil {
            throw ValidationError(
                "cannot tell the format from \(output)'s extension: name it .csv, .ndjson, .xlsx or .json, or pass --format"
            )
        }
        if format == .xlsx && output == nil, isatty(STDOUT_FILENO) == 1 {
            throw ValidationError("a workbook is not for a terminal: write it with -o FILE.xlsx")
        }
    }

    func run() async throws {
        let logger = Diagnostics.bootstrap(level: logLevel.level)
        let parsed: [PullCondition]
        do { parsed = try conditions.map { (text: String) throws(PullError) in try PullCondition.parse(text) } } catch {
            Output.error(error.description)
            throw ExitStatus.usage.exitCode
        }
        let resolvedFormat = format ?? output.flatMap(PullFormat.of(path:)) ?? .csv
        var configuration = RunConfiguration(inputPath: output ?? "-", ingest: .init(), journalPath: "")
        configuration.rate = account.rate == 0 ? nil : account.rate
        configuration.retry = RetryPolicy(base: .milliseconds(500), cap: .seconds(30), maxAttempts: maxAttempts)
        let client = try account.connection.client(
            connections: 2, requestTimeout: Duration(secondsValue: requestTimeout), logger: logger)
        let stop = StopSignal()
        let requests = RunRequests.make(configuration, stop: stop, counters: RunCounters(), logger: logger)
        let mode = progress ?? .plain
        let started = ContinuousClock.now
        let report = Self.reporter(mode, started: started)
        let options = AccountPull.Options(
            productIDs: productIDs, conditions: parsed, output: output, format: resolvedFormat)
        let pull = AccountPull(options, client: client, requests: requests, logger: logger, progress: report)
        // A first Ctrl-C (or SIGTERM) ends the pull after the page in flight; a second at once:
        // either way every page recorded stays, and the same command resumes after it.
        let signals = await SignalTrap.watch { count in
            if count == 1 {
                if stop.request(.interrupted) {
                    Output.error("stopping after the page in flight (Ctrl-C again: at once)")
                }
            } else {
                Foundation.exit(Int32(ExitStatus.interrupted.rawValue))
            }
        }
        defer { signals.cancel() }
        let summary: AccountPull.Summary
        do throws(PullError) {
            summary = try await pull.run { bytes in Output.resultBytes([UInt8](bytes)) }
        } catch {
            try? await client.shutdown()
            Output.error("pull: " + error.description)
            throw Self.status(error, stop: stop).exitCode
        }
        try? await client.shutdown()
        let seconds = (ContinuousClock.now - started).secondsValue
        let pagesPerSecond = seconds > 0 ? Double(summary.pages - summary.pagesResumed) / seconds : 0
        if json {
            Output.resultJSON([
                "licenses": summary.licenses, "pages": summary.pages, "pagesResumed": summary.pagesResumed,
                "requests": summary.requests, "tooManyRequests": summary.tooManyRequests,
                "output": output ?? NSNull(), "format": resolvedFormat.rawValue, "seconds": seconds,
            ])
        }
        Output.error(
            "pull: \(summary.licenses) licenses"
                + (output.map { " → \($0) (\(resolvedFormat.rawValue))" } ?? " (\(resolvedFormat.rawValue))")
                + "; \(summary.pages) pages"
                + (summary.pagesResumed > 0 ? " (\(summary.pagesResumed) before resuming)" : "")
                + ", \(summary.requests) requests, \(summary.tooManyRequests) 429s, "
                + String(format: "%.1f s, %.2f pages/s", seconds, pagesPerSecond))
    }

    /// A line on stderr a page (a JSON object with `--progress json`); nil with `--progress none`.
    static func reporter(_ mode: Progress, started: ContinuousClock.Instant) -> (
        @Sendable (AccountPull.Summary) -> Void
    )? {
        guard mode != .none else { return nil }
        let json = mode == .json
        return { summary in
            let seconds: Double = (ContinuousClock.now - started).secondsValue
            if json {
                let object: [String: Any] = [
                    "pages": summary.pages, "licenses": summary.licenses, "requests": summary.requests,
                    "seconds": seconds,
                ]
                Output.errorJSON(object)
            } else {
                let line =
                    "pull: page \(summary.pages), \(summary.licenses) licenses, \(summary.requests) requests, "
                    + String(format: "%.1f s", seconds)
                Output.error(line)
            }
        }
    }

    /// The exit status of a pull that stopped.
    static func status(_ error: PullError, stop: StopSignal) -> ExitStatus {
        switch error {
        case .usage: return .usage
        case .file: return .journalFailure
        case .stopped: return .interrupted
        case .api(_, let status):
            if status == 401 || status == 403 { return .accessDenied }
            if status == 429 { return .rateLimited }
            if let status, (400..<500).contains(status) { return .refused }
            return .apiUnreachable
        }
    }
}

import ArgumentParser
import Logging
import Provisioning
import Scheduling

/// How a run sends and what it says while and after it does — the pace, the patience, the budgets
/// that stop it, the results file, progress, logs, the summary and the metrics file. Declared once
/// here, taken by every command that sends: `run`, `apply`, `undo` and `audit --fix-duplicates`
/// (a nightly `apply` writes the same metrics, summary and results a `run` writes).
struct SendingOptions: ParsableArguments {
    @Option(help: "Requests in flight at once.")
    var concurrency = 8

    @Option(help: "Requests that may go at once after a quiet spell.")
    var burst = 1

    @Option(
        help:
            "Requests per server rate-limit window (Cryptlex: 50 per 5 s): answers' X-Rate-Limit headers then decide, filling each window; --rate holds until they do and whenever they are missing. 0: the fixed --rate only."
    )
    var windowLimit = RunConfiguration.cryptlexWindowLimit

    @Option(help: "Backoff base in seconds: the delay before retry n is drawn from 0…min(cap, base·2^(n-1)).")
    var retryBase = 0.5

    @Option(help: "Backoff cap in seconds.")
    var retryCap = 30.0

    @Option(help: "Attempts per license, the first included.")
    var maxAttempts = 6

    @Option(help: "Seconds before one request times out.")
    var requestTimeout = 30.0

    @Option(
        help:
            "Seconds to wait after an ambiguous outcome (lost response, 5xx) before looking the license up; a lookup that finds nothing proves absence only once Cryptlex's search has caught up, so keep it above the search's lag."
    )
    var reconcileDelay = RunConfiguration.defaultReconcileDelay

    @Flag(help: "Reject a row whose email has no Cryptlex user instead of creating the user.")
    var noCreateUsers = false

    @Option(help: "Stop the run once this many licenses have failed, been rejected or conflicted (0: never).")
    var maxFailures = 0

    @Option(
        name: .customLong("max-429s"),
        help: "Stop the run (exit 76) after this many 429 answers in a row, with no other answer between them.")
    var max429s = RunConfiguration.defaultMax429s

    @Option(help: "Stop the run (exit 76) when only 429s have come back for this many seconds.")
    var stallTimeout = RunConfiguration.defaultStallTimeout

    @Option(
        help:
            "Stop the run (exit 69, resumable) when requests have had no answer at all for this many seconds; 0: never."
    )
    var unreachableTimeout = RunConfiguration.defaultUnreachableTimeout

    @Option(help: "The results CSV (default: beside the file or the journal, ….results.csv).")
    var results: String?

    @Option(
        help:
            "The results file's columns: standard, or input: every column of the row as the file had it, then status, license_key, license_id, message."
    )
    var resultsColumns: RunConfiguration.ResultsColumns = .standard

    @Option(help: "List at most this many problems when the file is refused.")
    var maxProblems = 20

    @Option(help: "Log level on stderr.")
    var logLevel: LogLevel = .notice

    @Option(help: "Log format on stderr: text, or json (one object per line).")
    var logFormat: Diagnostics.Format = .text

    @Option(help: "Progress on stderr: bar (default on a terminal), plain (default otherwise), json or none.")
    var progress: Progress?

    @Flag(help: "Print the summary on stdout as one JSON object.")
    var json = false

    @Option(
        help: ArgumentHelp(
            "At the end of every run, write its figures here in the Prometheus text format (for node_exporter's textfile collector; replaced atomically).",
            valueName: "PATH"))
    var metricsFile: String?

    func validate() throws {
        try FlagRange.check("concurrency", concurrency, FlagRange.concurrency)
        try FlagRange.check("burst", burst, FlagRange.burst)
        try FlagRange.check("window-limit", windowLimit, FlagRange.windowLimit, orZero: true)
        try FlagRange.check("max-attempts", maxAttempts, FlagRange.maxAttempts)
        try FlagRange.checkBackoff(base: retryBase, cap: retryCap)
        try FlagRange.check("request-timeout", requestTimeout, FlagRange.requestTimeout)
        try FlagRange.check("reconcile-delay", reconcileDelay, FlagRange.reconcileDelay)
        try FlagRange.check("max-failures", maxFailures, FlagRange.maxFailures)
        try FlagRange.check("max-problems", maxProblems, FlagRange.maxProblems)
        try FlagRange.check("max-429s", max429s, FlagRange.max429s)
        try FlagRange.check("stall-timeout", stallTimeout, FlagRange.stallTimeout)
        try FlagRange.check("unreachable-timeout", unreachableTimeout, FlagRange.unreachableTimeout)
    }

    /// `configuration` with this pace, these budgets and this results file (when given).
    func configure(_ configuration: inout RunConfiguration) {
        configuration.concurrency = concurrency
        configuration.burst = burst
        configuration.windowLimit = windowLimit == 0 ? nil : windowLimit
        configuration.retry = RetryPolicy(
            base: Duration(secondsValue: retryBase), cap: Duration(secondsValue: retryCap), maxAttempts: maxAttempts)
        configuration.reconcileDelay = Duration(secondsValue: reconcileDelay)
        configuration.requestTimeout = Duration(secondsValue: requestTimeout)
        configuration.maxFailures = maxFailures
        configuration.max429s = max429s
        configuration.stallTimeout = Duration(secondsValue: stallTimeout)
        configuration.unreachableTimeout = Duration(secondsValue: unreachableTimeout)
        configuration.createUsers = !noCreateUsers
        configuration.resultsColumns = resultsColumns
        if let results { configuration.resultsPath = results }
    }
}

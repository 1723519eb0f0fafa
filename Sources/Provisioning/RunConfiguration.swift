import BuildInfo
import Ingestion
import Scheduling

/// Everything a provisioning run needs to know besides the client: what to read, where to keep
/// the journal and the results, and how hard to push the API.
package struct RunConfiguration: Sendable {
    /// The order file (`-` is standard input); for ``derivedRows``, what the run's messages call them.
    package var inputPath: String
    package var ingest: IngestOptions
    /// Rows another command derived (apply, undo, fixing duplicates), run instead of a file's.
    package var derivedRows: DerivedRows?
    /// The SQLite journal; by default `<input>.licprov.sqlite`.
    package var journalPath: String
    /// The results CSV; by default `<input>.results.csv`.
    package var resultsPath: String
    /// Send the valid rows of a file that has invalid ones (which are reported as rejected).
    package var skipInvalid = false
    /// Requests in flight at once.
    package var concurrency = 8
    /// The client-side limit in requests per second; nil sends as fast as the concurrency allows.
    package var rate: Double? = RunConfiguration.cryptlexRate
    /// Requests that may go at once after a quiet spell.
    package var burst = 1
    /// Requests per server window: with it, answers' `X-Rate-Limit-*` headers decide, filling each
    /// window (``RateLimiter``); `rate` and `burst` hold until then and whenever headers are missing.
    /// nil: the fixed rate only.
    package var windowLimit: Int? = RunConfiguration.cryptlexWindowLimit
    package var retry = RetryPolicy()
    /// The metadata key of the marker that makes each license findable; nil: no marker.
    package var markerKey: String? = RunConfiguration.defaultMarkerKey
    /// What the command was told about the key (`--marker-key`, `--no-marker`, neither), resolved
    /// against the journal's record when the run opens it: neither → the journal's key, else
    /// ``markerKey``. nil: ``markerKey`` is the key, and must agree with the journal's.
    package var markerKeyChoice: MarkerKeyChoice?
    /// How long to wait after an ambiguous outcome before looking the license up: a lookup that
    /// finds nothing proves absence only once Cryptlex's search shows new licenses, so this is the
    /// bound licprov assumes on that lag (see the README).
    package var reconcileDelay: Duration = .seconds(Int64(RunConfiguration.defaultReconcileDelay))
    /// The deadline of one request.
    package var requestTimeout: Duration = .seconds(30)
    /// The command line as recorded in the journal (no secrets).
    package var commandLine = "licprov run"
    /// Stop the run after this many rows have failed or been rejected by the server (0: never).
    package var maxFailures = 0
    /// Create a Cryptlex user for an email that has none (false: such a row is rejected).
    package var createUsers = true
    /// Keep the id column's value as a metadata entry named after the column (findable in Cryptlex).
    package var keepIDAsMetadata = true
    /// Stop the run after this many 429s in a row with no other answer between them (``ThrottleBudget``).
    package var max429s = RunConfiguration.defaultMax429s
    /// Stop the run when nothing but 429s came back for this long.
    package var stallTimeout: Duration = .seconds(RunConfiguration.defaultStallTimeout)
    /// Stop the run when requests have gone unanswered (no HTTP answer at all) for this long
    /// (``SilenceBudget``); zero: never.
    package var unreachableTimeout: Duration = .seconds(RunConfiguration.defaultUnreachableTimeout)
    /// Plan against the journal and report, but write nothing and send nothing.
    package var dryRun = false
    /// The results file's layout.
    package var resultsColumns = ResultsColumns.standard
    /// Where the run shows its journal's own-time writers (a simulation's kill waits for them); nil in a real run.
    package var journalWriters: JournalWriters?
    /// What every wait and every time of the run is on: backoff, pauses, lookup delays, the
    /// journal's times, the server's rate-limit windows read against them (a simulation's clock;
    /// the process's monotonic clock and the system's wall clock otherwise).
    package var clock = RunClock.continuous
    /// Where the backoff's jitter comes from (a simulation's seed; the system's generator otherwise).
    package var random = RunRandom.system

    package enum ResultsColumns: String, Sendable, CaseIterable {
        /// `source_line, row_id, unit, status, license_id, license_key, http_status, message, action, expires_at`.
        case standard
        /// Every input column of the row first, then `status, license_key, license_id, message`.
        case input
    }

    /// 50 requests per 5 s is Cryptlex's per-IP ceiling. 9.6/s with a burst of 1 puts at most
    /// 1 + 9.6 × 5.1 = 49.96 requests into any 5 s window even when arrivals bunch up by 100 ms
    /// (see ``TokenBucket``), and is 96 % of the ceiling.
    package static let cryptlexRate = 9.6
    /// Cryptlex's 50 requests per (5 s) window, per IP.
    package static let cryptlexWindowLimit = 50
    package static let defaultMarkerKey = "licprov_request"
    /// Seconds: covers a search index that lags up to a few seconds behind writes (the emulator's
    /// `--lookup-lag-ms 3000` and 10 % lost answers make no duplicate with it; 1 s did).
    package static let defaultReconcileDelay = 5.0
    /// 100 refusals in a row: at the default rate and a 1 s Retry-After, well over a minute of
    /// nothing but 429s — far beyond what a second client sharing the limit causes.
    package static let defaultMax429s = 100
    /// Ten minutes with nothing but 429s.
    package static let defaultStallTimeout = 600.0
    package static let defaultUnreachableTimeout = 60.0

    /// The journal beside an order file: `FILE.licprov.sqlite` (`stdin.licprov.sqlite` for `-`).
    package static func defaultJournalPath(for inputPath: String) -> String {
        (inputPath == "-" ? "stdin" : inputPath) + ".licprov.sqlite"
    }

    package init(inputPath: String, ingest: IngestOptions, journalPath: String? = nil, resultsPath: String? = nil) {
        self.inputPath = inputPath
        self.ingest = ingest
        self.journalPath = journalPath ?? Self.defaultJournalPath(for: inputPath)
        self.resultsPath = resultsPath ?? (inputPath == "-" ? "stdin" : inputPath) + ".results.csv"
    }
}

extension RunConfiguration {
    /// The run's rows: the derived ones, or the file read with `options`.
    func rowSource(_ options: IngestOptions) throws -> any RowSource {
        if let derivedRows { return derivedRows.reader(options) }
        return try OrderFileReader(path: inputPath, options: options)
    }
}

extension RunConfiguration {
    /// licprov's version and commit, as recorded in the journal's runs (`0.3.0 (abc1234)`).
    package static let version = BuildInfo.versionLine
}

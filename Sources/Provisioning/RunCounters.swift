import Synchronization

/// What a run did, counted as it goes; read by the progress display and the summary.
public struct RunCounts: Sendable, Equatable {
    /// Licenses created by this run.
    public var created = 0
    /// Changes to existing licenses applied by this run (update, renew, …, delete).
    public var changed = 0
    /// Licenses found by a lookup after an ambiguous outcome (created, but the answer was lost),
    /// and changes a read showed had taken effect.
    public var recovered = 0
    /// Licenses a previous run settled; nothing sent.
    public var alreadyDone = 0
    /// Gave up after retryable failures; a rerun tries again.
    public var failed = 0
    /// Refused by the server (4xx) or by validation.
    public var rejected = 0
    /// Key owned by another license, a marker on two licenses, or a row edited after its license was created.
    public var conflicts = 0
    /// Ambiguous outcomes that could not be looked up (no marker and no key).
    public var unresolved = 0
    /// Left for a rerun because the run stopped early.
    public var notSent = 0
    /// Create requests sent (every attempt).
    public var requests = 0
    /// Lookup requests sent.
    public var lookups = 0
    /// 429 answers.
    public var tooManyRequests = 0
    /// Attempts after the first, for any reason.
    public var retries = 0
    /// Outcomes that were ambiguous (response lost, 5xx, timeout after sending).
    public var ambiguous = 0
    /// Customers: found existing in Cryptlex, created by this run; user lookups and creates sent.
    public var usersFound = 0
    public var usersCreated = 0
    public var userLookups = 0
    public var userRequests = 0

    public init() {}

    /// Rows finished by this run, for progress.
    public var finished: Int { created + changed + recovered + failed + rejected + conflicts + unresolved }
}

/// The counters of one run, shared by its workers.
final class RunCounters: Sendable {
    private let counts = Mutex(RunCounts())

    func update(_ change: (inout RunCounts) -> Void) {
        counts.withLock { change(&$0) }
    }

    var snapshot: RunCounts { counts.withLock { $0 } }
}

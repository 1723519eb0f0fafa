import Synchronization

/// What a run did, counted as it goes; read by the progress display and the summary.
package struct RunCounts: Sendable, Equatable {
    /// Licenses created by this run.
    package var created = 0
    /// Changes to existing licenses applied by this run (update, renew, …, delete).
    package var changed = 0
    /// Updates this run found the license already held (every field as the row says): nothing sent.
    package var unchanged = 0
    /// Licenses found by a lookup after an ambiguous outcome (created, but the answer was lost),
    /// and changes a read showed had taken effect.
    package var recovered = 0
    /// Licenses a previous run settled; nothing sent.
    package var alreadyDone = 0
    /// Gave up after retryable failures; a rerun tries again.
    package var failed = 0
    /// Refused by the server (4xx) or by validation.
    package var rejected = 0
    /// Key owned by another license, a marker on two licenses, or a row edited after its license was created.
    package var conflicts = 0
    /// Ambiguous outcomes that could not be looked up (no marker and no key).
    package var unresolved = 0
    /// Left for a rerun because the run stopped early.
    package var notSent = 0
    /// Entries of rows no longer in the file whose earlier send, looked up, had not taken effect:
    /// left pending, nothing sent (those it had are counted recovered).
    package var notInFile = 0
    /// Rows the file says not to provision (yet): an order not paid, a line that is not a license.
    package var skipped = 0
    /// Create requests sent (every attempt).
    package var requests = 0
    /// Lookup requests sent.
    package var lookups = 0
    /// 429 answers.
    package var tooManyRequests = 0
    /// Attempts after the first, for any reason.
    package var retries = 0
    /// Outcomes that were ambiguous (response lost, 5xx, timeout after sending).
    package var ambiguous = 0
    /// Customers: found existing in Cryptlex, created by this run; user lookups and creates sent.
    package var usersFound = 0
    package var usersCreated = 0
    package var userLookups = 0
    package var userRequests = 0
    /// Organizations and resellers: found existing, created by this run; their lookups and creates sent.
    package var directoryFound = 0
    package var directoryCreated = 0
    package var directoryLookups = 0
    package var directoryRequests = 0

    package init() {}

    /// Rows finished by this run, for progress.
    package var finished: Int {
        created + changed + unchanged + recovered + failed + rejected + conflicts + unresolved + notInFile
    }
}

/// The counters of one run, shared by its workers.
package final class RunCounters: Sendable {
    private let counts = Mutex(RunCounts())

    package init() {}

    package func update(_ change: (inout RunCounts) -> Void) {
        counts.withLock { change(&$0) }
    }

    package var snapshot: RunCounts { counts.withLock { $0 } }
}

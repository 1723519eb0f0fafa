import Synchronization

/// Bounds how long a run keeps sending while nothing answers at all: the API went away mid-run
/// (refused connections, resets, timeouts, a proxy that lost its upstream).
///
/// Without it, every row would spend its attempts on a dead API — minutes of backoff each, and
/// rows ending `failed` — before the run ended. With it, the run stops like an interrupt once
/// requests have gone unanswered for `timeout`: the journal is flushed, what was in flight stays
/// "maybe sent" for the next run to look up, and the next run resumes.
///
/// The clock starts at the first request without an answer after the last answer; any HTTP
/// answer (a success, a 4xx, a 5xx, a 429) stops it. Time spent waiting between requests counts:
/// what is measured is how long the API has been silent while licprov kept asking. Time is
/// injected (`C: Clock`), so the budget is tested without sleeping.
public final class SilenceBudget<C: Clock>: Sendable where C.Duration == Duration {
    /// How long requests may go unanswered; zero turns the budget off.
    public let timeout: Duration
    private let clock: C
    private let silentSince: Mutex<C.Instant?>

    public init(timeout: Duration, clock: C) {
        self.timeout = timeout
        self.clock = clock
        silentSince = Mutex(nil)
    }

    /// A request got no answer (`reason`: what happened to it). Returns why the budget is spent,
    /// or nil while it lasts.
    public func unanswered(_ reason: String) -> String? {
        guard timeout > .zero else { return nil }
        let now = clock.now
        return silentSince.withLock { since in
            guard let start = since else {
                since = now
                return nil
            }
            let silent = start.duration(to: now)
            guard silent >= timeout else { return nil }
            return "the API has not answered for \(silent.components.seconds) s (last: \(reason))"
        }
    }

    /// An HTTP answer came back: the API is there.
    public func answered() {
        silentSince.withLock { $0 = nil }
    }
}

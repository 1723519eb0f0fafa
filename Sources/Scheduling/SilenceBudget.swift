import Synchronization

/// Bounds how long a run keeps sending while nothing answers at all: the API went away mid-run
/// (refused connections, resets, timeouts, a proxy that lost its upstream).
///
/// Without it, every row would spend its attempts on a dead API — minutes of backoff each, and
/// rows ending `failed` — before the run ended. With it, the run stops like an interrupt once
/// requests have gone unanswered for `timeout`: the journal is flushed, what was in flight stays
/// "maybe sent" for the next run to look up, and the next run resumes.
///
/// The clock starts when the first request without an answer after the last answer was *sent*
/// (not when it failed: a connection refused can take the whole connect timeout to say so); any
/// HTTP answer (a success, a 4xx, a 5xx, a 429) stops it. Time spent waiting between requests
/// counts: what is measured is how long the API has been silent while licprov kept asking. Time is
/// injected (`C: Clock`), so the budget is tested without sleeping.
package final class SilenceBudget<C: Clock>: Sendable where C.Duration == Duration {
    /// How long requests may go unanswered; zero turns the budget off.
    package let timeout: Duration
    private let clock: C
    private let state: Mutex<(silentSince: C.Instant?, lastAnswer: C.Instant?)>

    package init(timeout: Duration, clock: C) {
        self.timeout = timeout
        self.clock = clock
        state = Mutex((nil, nil))
    }

    /// A request sent at `sentAt` (nil: now) got no answer (`reason`: what happened to it).
    /// Returns why the budget is spent, or nil while it lasts.
    package func unanswered(_ reason: String, sentAt: C.Instant? = nil) -> String? {
        guard timeout > .zero else { return nil }
        let now = clock.now
        return state.withLock { state in
            // Silent since the first unanswered request went, or since the last answer if that came later.
            let sent = sentAt ?? now
            let start = state.silentSince ?? state.lastAnswer.map { max($0, sent) } ?? sent
            state.silentSince = start
            let silent = start.duration(to: now)
            guard silent >= timeout else { return nil }
            return "the API has not answered for \(silent.components.seconds) s (last: \(reason))"
        }
    }

    /// How long until the budget is spent, while requests go unanswered (nil otherwise): a worker
    /// backs off no longer than this, so the stop comes when it is due, not a backoff later.
    package func timeLeft() -> Duration? {
        guard timeout > .zero else { return nil }
        let now = clock.now
        return state.withLock { state in state.silentSince.map { max(.zero, timeout - $0.duration(to: now)) } }
    }

    /// An HTTP answer came back: the API is there.
    package func answered() {
        let now = clock.now
        state.withLock { $0 = (nil, now) }
    }
}

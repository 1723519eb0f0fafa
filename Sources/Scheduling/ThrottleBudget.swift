import Synchronization

/// Bounds how long a run keeps going while the server answers nothing but "too many requests".
///
/// A 429 is not a failure of the request — it is retried without counting an attempt — so a
/// proxy or an account that refuses everything would keep a run (and its lock) alive forever.
/// The budget is spent when either holds:
///
/// - `maxConsecutive` refusals came back with no other answer between them, or
/// - the last other answer is older than `stallTimeout` and refusals keep coming.
///
/// Any other answer (a success, a 4xx, a 5xx) is progress and refills the budget. Time is
/// injected (`C: Clock`), so the budget is tested without sleeping.
package final class ThrottleBudget<C: Clock>: Sendable where C.Duration == Duration {
    package let maxConsecutive: Int
    package let stallTimeout: Duration
    private let clock: C
    private let state: Mutex<(consecutive: Int, lastAnswer: C.Instant)>

    package init(maxConsecutive: Int, stallTimeout: Duration, clock: C) {
        self.maxConsecutive = max(1, maxConsecutive)
        self.stallTimeout = stallTimeout
        self.clock = clock
        state = Mutex((0, clock.now))
    }

    /// Why the budget is spent, after a refusal; nil while it lasts.
    package func refused() -> String? {
        let now = clock.now
        return state.withLock { state in
            state.consecutive += 1
            if state.consecutive >= maxConsecutive {
                return "\(state.consecutive) answers in a row were 429 (too many requests)"
            }
            let quiet = state.lastAnswer.duration(to: now)
            if quiet >= stallTimeout {
                return "only 429 (too many requests) came back for \(quiet.components.seconds) s"
            }
            return nil
        }
    }

    /// An answer other than a refusal: the server is letting requests through.
    package func answered() {
        let now = clock.now
        state.withLock { $0 = (0, now) }
    }
}

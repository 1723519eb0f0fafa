import CryptlexAPI
import Foundation
import Scheduling

/// What every request of a run does with the server's rate-limit signals, in one place:
///
/// - a 429 is counted, pauses every worker for its `Retry-After`, and draws on the run's
///   ``ThrottleBudget``; once that is spent the run stops (``StopSignal/Reason/rateLimited(_:)``),
///   like an interrupted run: the journal flushed, the results written, exit 76;
/// - any other answer refills the budget, and its `X-Rate-Limit-Remaining`/`Reset` headers are fed
///   to the limiter (with few requests left in the server's window, every worker waits for the
///   reset, capped at the window against clock skew).
struct Throttling: Sendable {
    let limiter: RateLimiter<ContinuousClock>?
    let budget: ThrottleBudget<ContinuousClock>
    let stop: StopSignal
    let counters: RunCounters

    /// A 429 came back. Returns false when the run must stop (the budget is spent).
    @discardableResult
    func tooManyRequests(retryAfter: Duration?) async -> Bool {
        counters.update { $0.tooManyRequests += 1 }
        await limiter?.pause(for: retryAfter ?? .seconds(1))
        guard let reason = budget.refused() else { return true }
        stop.request(.rateLimited(reason))
        return false
    }

    /// The API answered (a status other than 429, or a success): progress, and its headers.
    func answered(status: Int?, _ rateLimit: RateLimitStatus) async {
        guard status != 429 else { return }
        if status != nil { budget.answered() }
        guard let limiter, let remaining = rateLimit.remaining, let reset = rateLimit.reset else { return }
        let window = rateLimit.window ?? .seconds(5)
        let seconds = min(max(reset.timeIntervalSinceNow, 0), Double(window.components.seconds) + 1)
        await limiter.observe(remaining: remaining, resetsIn: .milliseconds(Int64(seconds * 1000)))
    }
}

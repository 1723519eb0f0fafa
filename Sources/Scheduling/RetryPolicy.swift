/// How a failed request is retried: exponential backoff with full jitter, bounded attempts.
///
/// The delay before attempt `n + 1` (after `n` failed attempts) is drawn uniformly from
/// `0 ... min(cap, base · 2^(n−1))` — "full jitter", which spreads retries of many workers apart
/// instead of letting them hit the server together. A server's `Retry-After` is a floor.
///
/// With the defaults (base 500 ms, cap 30 s, 6 attempts) the upper bounds are:
///
/// | failed attempts | delay drawn from |
/// |---|---|
/// | 1 | 0 – 0.5 s |
/// | 2 | 0 – 1 s |
/// | 3 | 0 – 2 s |
/// | 4 | 0 – 4 s |
/// | 5 | 0 – 8 s |
/// | 6 | give up |
package struct RetryPolicy: Sendable, Equatable {
    package var base: Duration
    package var cap: Duration
    /// Attempts in all, the first included.
    package var maxAttempts: Int

    package init(base: Duration = .milliseconds(500), cap: Duration = .seconds(30), maxAttempts: Int = 6) {
        self.base = base
        self.cap = cap
        self.maxAttempts = maxAttempts
    }

    /// The upper bound of the delay after `failedAttempts` failures.
    package func ceiling(afterFailedAttempts failedAttempts: Int) -> Duration {
        let doublings = min(max(failedAttempts - 1, 0), 40)
        let scaled = base * Int(1 << min(doublings, 30))
        return doublings >= 30 || scaled > cap ? cap : scaled
    }

    /// The wait before the next attempt after `failedAttempts` failures, or nil when the attempts
    /// are used up. A server's `Retry-After` is a floor.
    package func backoff(
        afterFailedAttempts failedAttempts: Int, retryAfter: Duration? = nil,
        using generator: inout some RandomNumberGenerator
    ) -> Duration? {
        guard failedAttempts < maxAttempts else { return nil }
        let ceiling = ceiling(afterFailedAttempts: failedAttempts)
        let jittered = Duration.nanoseconds(Int64.random(in: 0...max(0, ceiling.nanosecondCount), using: &generator))
        return max(jittered, retryAfter ?? .zero)
    }
}

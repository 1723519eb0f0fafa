/// The arithmetic of a token bucket, as the generic cell rate algorithm (GCRA): no clock, no
/// waiting, just "when may the next request go?". ``RateLimiter`` wraps it with a clock.
///
/// A bucket with rate `r` per second and burst `b` lets through at most `b + r·T` requests in any
/// stretch of time `T`. To stay under a server's fixed window of `L` requests per `W` seconds,
/// choose `b + r·W < L` with room for network jitter `J` (arrivals bunch up by up to `J`):
/// `b + r·(W + J) ≤ L`. For Cryptlex's 50 per 5 s, `r = 9.6`, `b = 1` tolerates 100 ms of jitter.
package struct TokenBucket: Sendable, Equatable {
    /// Time between two requests at the sustained rate.
    package let interval: Duration
    /// How far ahead of the sustained pace a burst may run.
    package let burstAllowance: Duration
    /// The theoretical arrival time of the next request (nil: the bucket is full).
    package private(set) var nextSlot: Duration?

    /// - Parameters:
    ///   - rate: requests per second, sustained.
    ///   - burst: requests that may go at once after a quiet spell (at least 1).
    package init(rate: Double, burst: Int) {
        precondition(rate > 0 && burst >= 1, "a token bucket needs a positive rate and a burst of at least 1")
        interval = .nanoseconds(Int64((1_000_000_000 / rate).rounded(.up)))
        burstAllowance = interval * (burst - 1)
    }

    /// Reserves the next slot for a request wanting to go at `now` (a time on any monotonic
    /// scale, as a duration since its origin), never before `notBefore`. Returns when it may go.
    package mutating func reserve(now: Duration, notBefore: Duration = .zero) -> Duration {
        let theoretical = max(nextSlot ?? now, now)
        let sendAt = max(theoretical - burstAllowance, now, notBefore)
        nextSlot = max(theoretical, sendAt) + interval
        return sendAt
    }
}

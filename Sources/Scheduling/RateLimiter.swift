/// One limiter shared by every worker of a run: a ``TokenBucket`` on a clock, plus pauses.
///
/// - ``acquire()`` waits for the request's slot. Slots are handed out in call order, so workers
///   never race each other into a burst.
/// - ``pause(for:)`` (a 429's `Retry-After`) holds every request until the pause ends; requests
///   already waiting take new slots after it.
/// - ``observe(remaining:resetsIn:)`` follows the server's own count: with few requests left in
///   its window, nothing more is sent until the window resets.
///
/// Time is injected (`C: Clock`), so tests drive it without sleeping.
public actor RateLimiter<C: Clock> where C.Duration == Duration {
    private let clock: C
    private let origin: C.Instant
    private var bucket: TokenBucket
    private var pausedUntil: Duration = .zero
    /// Bumped by every pause, so a waiter knows its slot was taken from it.
    private var epoch = 0
    /// With this many requests or fewer left in the server's window, wait for its reset.
    public let lowWater: Int

    public init(rate: Double, burst: Int, lowWater: Int = 1, clock: C) {
        self.clock = clock
        self.origin = clock.now
        self.bucket = TokenBucket(rate: rate, burst: burst)
        self.lowWater = lowWater
    }

    private var now: Duration { origin.duration(to: clock.now) }

    /// Waits until this request may be sent. Throws `CancellationError` if cancelled while waiting.
    public func acquire() async throws {
        while true {
            let slot = bucket.reserve(now: now, notBefore: pausedUntil)
            let reservedIn = epoch
            if slot > now { try await clock.sleep(until: origin.advanced(by: slot), tolerance: nil) }
            if reservedIn == epoch || pausedUntil <= now { return }
        }
    }

    /// Holds every request for `duration` from now (at least; an existing longer pause stays).
    public func pause(for duration: Duration) {
        let until = now + duration
        guard until > pausedUntil else { return }
        pausedUntil = until
        epoch += 1
    }

    /// Takes the server's `X-Rate-Limit-Remaining` and the time to its window's reset into account.
    public func observe(remaining: Int?, resetsIn: Duration?) {
        guard let remaining, remaining <= lowWater, let resetsIn, resetsIn > .zero else { return }
        pause(for: resetsIn)
    }

    /// Whether requests are being held (for tests).
    var isPaused: Bool { pausedUntil > now }
}

/// How a rate limiter places its fixed windows and what it reports of them. Honest servers of
/// "N requests per window" differ here, and a client must stay within the limit on each.
public enum RateWindowStyle: String, Sendable, CaseIterable {
    /// Windows on the wall clock's grid (:00–:05, :05–:10, …), and their ends reported.
    case grid
    /// A window starts with the first request after the last one expired; its end reported
    /// (AspNetCoreRateLimit's in-memory store).
    case firstRequest = "first-request"
    /// Counted from the first request after the last window expired (a counter that expires one
    /// window after its first increment), while `X-Rate-Limit-Reset` and `Retry-After` report the
    /// end of the grid's window the request fell in: AspNetCoreRateLimit's Redis processing strategy.
    case firstRequestGridReported = "first-request-grid-reported"
}

/// Cryptlex's rate limit: a fixed number of requests per fixed window, counted per client IP.
///
/// A request counts when it arrives, whether it is then allowed or refused, as a server-side
/// counter would. Where the windows lie, and which end is reported, depends on ``style``;
/// `resetNoiseTicks` spreads the reported end of each answer by up to that much (half before, half
/// after), as a server that writes "now + time left" or rounds per node does.
public actor FixedWindowRateLimiter {
    /// What the limiter decided for one request.
    public enum Decision: Sendable, Equatable {
        /// Allowed: `remaining` requests are left in the window reported to end at `resetTicks`.
        case allowed(remaining: Int, resetTicks: Int64)
        /// Refused: retry after `retryAfterSeconds` (rounded up; at least 1).
        case refused(retryAfterSeconds: Int)
    }

    /// Requests allowed per window.
    public let limit: Int
    /// Window length, in seconds.
    public let windowSeconds: Int
    /// Where windows lie and which end is reported.
    public let style: RateWindowStyle
    /// The spread of the reported end between answers, in 100 ns ticks.
    public let resetNoiseTicks: Int64
    private var windows: [String: (start: Int64, count: Int)] = [:]
    private var random: SplitMix64

    public init(
        limit: Int, windowSeconds: Int, style: RateWindowStyle = .grid, resetNoiseTicks: Int64 = 0, seed: UInt64 = 1
    ) {
        self.limit = limit
        self.windowSeconds = windowSeconds
        self.style = style
        self.resetNoiseTicks = max(0, resetNoiseTicks)
        self.random = SplitMix64(seed: seed)
    }

    /// Counts one request from `client` arriving at `nowTicks` (100 ns ticks since 1970).
    public func admit(client: String, nowTicks: Int64) -> Decision {
        let windowTicks = Int64(windowSeconds) * 10_000_000
        let gridStart = nowTicks - ((nowTicks % windowTicks) + windowTicks) % windowTicks
        var window = windows[client]
        switch style {
        case .grid:
            if window?.start != gridStart { window = (gridStart, 0) }
        case .firstRequest, .firstRequestGridReported:
            if let current = window, nowTicks < current.start + windowTicks {} else { window = (nowTicks, 0) }
        }
        window!.count += 1
        windows[client] = window
        let end = style == .firstRequest ? window!.start + windowTicks : gridStart + windowTicks
        if window!.count > limit {
            let seconds = Int((end - nowTicks + 9_999_999) / 10_000_000)
            return .refused(retryAfterSeconds: max(1, seconds))
        }
        var reported = end
        if resetNoiseTicks > 0 { reported += Int64(random.next() % UInt64(resetNoiseTicks + 1)) - resetNoiseTicks / 2 }
        return .allowed(remaining: limit - window!.count, resetTicks: reported)
    }

    /// Forgets every window.
    public func reset() { windows.removeAll() }

    /// Whether the limit is lifted for now (`PUT /__admin/rate-limit`: seeding an account for a
    /// rehearsal fast, then reading it back under the limit): requests pass with no headers.
    public private(set) var paused = false

    public func pause(_ paused: Bool) {
        self.paused = paused
        if paused { windows.removeAll() }
    }
}

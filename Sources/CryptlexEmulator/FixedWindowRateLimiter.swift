/// Cryptlex's rate limit: a fixed number of requests per fixed window, counted per client IP.
///
/// Windows are aligned to the wall clock (a 5 s window runs from :00 to :05, :05 to :10, …), and a
/// request counts when it arrives, whether it is then allowed or refused, as a server-side
/// counter would.
public actor FixedWindowRateLimiter {
    /// What the limiter decided for one request.
    public enum Decision: Sendable, Equatable {
        /// Allowed: `remaining` requests are left in the window that ends at `resetTicks`.
        case allowed(remaining: Int, resetTicks: Int64)
        /// Refused: retry after `retryAfterSeconds` (rounded up; at least 1).
        case refused(retryAfterSeconds: Int)
    }

    /// Requests allowed per window.
    public let limit: Int
    /// Window length, in seconds.
    public let windowSeconds: Int
    private var windows: [String: (start: Int64, count: Int)] = [:]

    public init(limit: Int, windowSeconds: Int) {
        self.limit = limit
        self.windowSeconds = windowSeconds
    }

    /// Counts one request from `client` arriving at `nowTicks` (100 ns ticks since 1970).
    public func admit(client: String, nowTicks: Int64) -> Decision {
        let windowTicks = Int64(windowSeconds) * 10_000_000
        let start = nowTicks - nowTicks % windowTicks
        var window = windows[client] ?? (start, 0)
        if window.start != start { window = (start, 0) }
        window.count += 1
        windows[client] = window
        let end = start + windowTicks
        if window.count > limit {
            let seconds = Int((end - nowTicks + 9_999_999) / 10_000_000)
            return .refused(retryAfterSeconds: max(1, seconds))
        }
        return .allowed(remaining: limit - window.count, resetTicks: end)
    }

    /// Forgets every window.
    public func reset() { windows.removeAll() }
}

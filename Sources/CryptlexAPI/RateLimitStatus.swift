import CryptlexModels
import Foundation

/// What a response said about the rate limit, in a form the scheduler can act on.
///
/// Cryptlex sends `X-Rate-Limit-Limit` (a period such as `5s`), `X-Rate-Limit-Remaining` and
/// `X-Rate-Limit-Reset` (a UTC date-time, not epoch seconds) on allowed responses, and
/// `Retry-After` (seconds, or an HTTP-date) on a 429. Any header may be missing or malformed;
/// a missing value is nil, never a guess.
package struct RateLimitStatus: Sendable, Equatable {
    /// The window, from `X-Rate-Limit-Limit`.
    package var window: Duration?
    /// Requests left in the current window.
    package var remaining: Int?
    /// When the current window ends.
    package var reset: Date?
    /// How long to wait before sending again, from `Retry-After`.
    package var retryAfter: Duration?
    /// `X-Rate-Limit-Reset` as the server wrote it (for `licprov doctor`).
    package var resetText: String?
    /// The server's clock when it answered, from `Date` (whole seconds).
    package var serverDate: Date?

    package init(window: Duration? = nil, remaining: Int? = nil, reset: Date? = nil, retryAfter: Duration? = nil) {
        self.window = window
        self.remaining = remaining
        self.reset = reset
        self.retryAfter = retryAfter
    }

    /// Parses the headers of one response; `now` anchors an HTTP-date `Retry-After`.
    package init(header: (String) -> String?, now: Date = Date()) {
        window = header("X-Rate-Limit-Limit").flatMap(Self.parsePeriod)
        remaining = header("X-Rate-Limit-Remaining").flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        resetText = header("X-Rate-Limit-Reset").map { $0.trimmingCharacters(in: .whitespaces) }
        reset = resetText.flatMap { CryptlexTimestamp($0)?.date }
        retryAfter = header("Retry-After").flatMap { Self.parseRetryAfter($0, now: now) }
        serverDate = header("Date").flatMap { Self.parseHTTPDate($0.trimmingCharacters(in: .whitespaces)) }
    }

    /// True when no header was present.
    package var isEmpty: Bool { window == nil && remaining == nil && reset == nil && retryAfter == nil }

    /// `5s`, `1m`, `500ms` or a bare number of seconds.
    static func parsePeriod(_ text: String) -> Duration? {
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
        for (suffix, scale) in units where trimmed.hasSuffix(suffix) {
            if let value = Double(trimmed.dropLast(suffix.count)), value >= 0 {
                return .milliseconds(Int64(value * scale * 1000))
            }
        }
        return Double(trimmed).flatMap { $0 >= 0 ? .milliseconds(Int64($0 * 1000)) : nil }
    }

    /// `Retry-After` as delta-seconds (`120`, `1.5` tolerated) or an IMF-fixdate HTTP-date.
    static func parseRetryAfter(_ text: String, now: Date) -> Duration? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let seconds = Double(trimmed) {
            return seconds >= 0 ? .milliseconds(Int64(seconds * 1000)) : nil
        }
        guard let date = parseHTTPDate(trimmed) else { return nil }
        return .milliseconds(Int64(max(0, date.timeIntervalSince(now)) * 1000))
    }

    /// An IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`, RFC 9110 §5.6.7), as `Date` and
    /// `Retry-After` carry it. Read by hand: every response carries a `Date`, and a `DateFormatter`
    /// made for each (ICU's formatter opened every time) took a seventh of a fast run's CPU (`perf`).
    static func parseHTTPDate(_ text: String) -> Date? {
        let parts = text.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0].count == 4, parts[0].hasSuffix(","), parts[5] == "GMT",
            parts[1].count == 2, let day = Int(parts[1]),
            let month = months.firstIndex(of: parts[2]), parts[3].count == 4, let year = Int(parts[3])
        else { return nil }
        let clock = parts[4].split(separator: ":", omittingEmptySubsequences: false)
        guard clock.count == 3, clock.allSatisfy({ $0.count == 2 }), let hour = Int(clock[0]),
            let minute = Int(clock[1]), let second = Int(clock[2]), (0...23).contains(hour), (0...59).contains(minute),
            (0...60).contains(second)
        else { return nil }
        guard CivilDate.isValid(year: year, month: month + 1, day: day) else { return nil }
        let days = CivilDate.days(year: year, month: month + 1, day: day)
        return Date(timeIntervalSince1970: TimeInterval(days * 86_400 + hour * 3_600 + minute * 60 + second))
    }

    private static let months: [Substring] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
}

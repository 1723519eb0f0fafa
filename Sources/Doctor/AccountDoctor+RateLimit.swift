import Foundation
import Provisioning

/// What `licprov doctor` makes of the rate-limit headers and `Date`s it saw: the window, the reset
/// format, whether answers of one window agree, and the server's clock against ours. Pure
/// functions over the doctor's exchanges (``AccountDoctor/Exchange``), apart from the requests.
extension AccountDoctor {
    /// The rate-limit headers as seen, and a check line for them.
    static func rateLimit(_ exchanges: [Exchange], into checks: inout [Check]) -> RateLimitSeen? {
        var seen = RateLimitSeen()
        let headed = exchanges.filter { $0.rateLimit.remaining != nil && $0.rateLimit.reset != nil }
        var notes: [String] = []
        let refusals = exchanges.count(where: \.refused)
        if refusals > 0 {
            notes.append(
                "\(refusals) of doctor's requests got 429 (waited for): another client uses this IP's limit now")
        }
        if let offset = clockOffset(exchanges) {
            seen.clockOffsetMilliseconds = offset
            if offset.contains(0) {
                notes.append("the server's clock agrees with ours to the second (from Date)")
            } else {
                let ahead = offset.lowerBound > 0
                notes.append(
                    "the server's clock is at least \(Int(min(abs(offset.lowerBound), abs(offset.upperBound)).rounded())) ms \(ahead ? "ahead of" : "behind") ours (from Date)"
                )
            }
        }
        guard !headed.isEmpty else {
            checks.append(
                Check(
                    name: "rate limit", status: .warning,
                    detail:
                        "no answer carried X-Rate-Limit-Remaining and -Reset: licprov sends at the fixed --rate (9.6/s)"
                        + (notes.isEmpty ? "" : "; " + notes.joined(separator: "; "))))
            return seen
        }
        seen.window = headed.compactMap { $0.rateLimit.window }.first.map { "\(Int($0.secondsValue))s" }
        seen.lowestRemaining = headed.compactMap(\.rateLimit.remaining).min()
        seen.resetExample = headed.compactMap(\.rateLimit.resetText).first
        seen.resetFormat = seen.resetExample.map(resetFormat)
        let windowSeconds = headed.compactMap { $0.rateLimit.window?.secondsValue }.first ?? 5
        // Answers whose ends are closer than half a window are one window: the spread within one.
        let ends = headed.compactMap { $0.rateLimit.reset?.timeIntervalSince1970 }.sorted()
        var spread = 0.0
        var start = ends[0]
        for end in ends {
            if end - start >= windowSeconds / 2 { start = end } else { spread = max(spread, end - start) }
        }
        seen.resetSpreadMilliseconds = spread * 1000
        let agreement =
            spread == 0
            ? "identical across the answers of one window"
            : "differing by up to \(Int((spread * 1000).rounded())) ms within one window (licprov takes them as one)"
        let limit = seen.window.map { "windows of \($0)" } ?? "no X-Rate-Limit-Limit (5 s assumed)"
        let detail =
            ([limit, "X-Rate-Limit-Reset like \(seen.resetExample ?? "?") (\(seen.resetFormat ?? "?")), \(agreement)"]
            + notes).joined(separator: "; ")
        // Tests would go early.
        let skewed = seen.clockOffsetMilliseconds.map { $0.lowerBound > 1_000 || $0.upperBound < -1_000 } ?? false
        checks.append(
            Check(
                name: "rate limit", status: skewed ? .warning : .ok,
                detail: detail
                    + (skewed ? ": licprov then follows the windows by their counts alone, a little slower" : "")))
        return seen
    }

    /// The server's clock minus ours: each `Date` (whole seconds) was written between the send and
    /// the answer, so the offset lies in (date − answered, date + 1 − sent) — widened by a second
    /// below, as servers cache the header and may write the second before (Hummingbird does).
    static func clockOffset(_ exchanges: [Exchange]) -> ClosedRange<Double>? {
        var low = -Double.infinity
        var high = Double.infinity
        for exchange in exchanges {
            guard let date = exchange.rateLimit.serverDate?.timeIntervalSince1970 else { continue }
            low = max(low, date - exchange.answered.timeIntervalSince1970)
            high = min(high, date + 2 - exchange.sent.timeIntervalSince1970)
        }
        guard low.isFinite, high.isFinite, low <= high else { return nil }
        return (low * 1000)...(high * 1000)
    }

    /// `2026-12-03T09:22:05.1234567Z` → "RFC 3339, UTC, 7 fractional digits".
    static func resetFormat(_ text: String) -> String {
        let zone =
            text.hasSuffix("Z")
            ? "UTC (Z)"
            : (text.range(of: #"[+-]\d\d:?\d\d$"#, options: .regularExpression) != nil ? "with an offset" : "no zone")
        let digits =
            text.firstIndex(of: ".").map { dot in text[text.index(after: dot)...].prefix { $0.isNumber }.count } ?? 0
        let kind = text.count >= 19 && text.dropFirst(10).first == "T" ? "RFC 3339" : "not RFC 3339"
        return "\(kind), \(zone), \(digits == 0 ? "whole seconds" : "\(digits) fractional digits")"
    }

    package static func seconds(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }
}

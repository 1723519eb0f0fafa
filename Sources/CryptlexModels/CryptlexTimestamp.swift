import Foundation

/// A Cryptlex date-time, which carries seven fractional digits (`2018-05-06T08:49:17.9361143Z`).
///
/// Decoding keeps the text as sent, so nothing is lost in a round trip, and exposes the instant
/// as 100-nanosecond ticks since 1970. Any number of fractional digits and any UTC offset is
/// accepted; parsers that expect exactly three digits fail on real Cryptlex responses.
package struct CryptlexTimestamp: Codable, Sendable, Hashable, CustomStringConvertible {
    /// The text as Cryptlex sent it.
    package let text: String
    /// 100-nanosecond ticks since 1970-01-01T00:00:00Z.
    package let ticks: Int64

    package init?(_ text: String) {
        guard let ticks = Self.parseTicks(text) else { return nil }
        self.text = text
        self.ticks = ticks
    }

    package init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let value = CryptlexTimestamp(text) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "not an RFC 3339 date-time: \(text)")
        }
        self = value
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(text)
    }

    /// The instant as a `Date` (to the microsecond; `Date` cannot hold ticks exactly).
    package var date: Date { Date(timeIntervalSince1970: Double(ticks) / 10_000_000) }

    package var description: String { text }

    private static func parseTicks(_ text: String) -> Int64? {
        let utf8 = Array(text.utf8)
        guard utf8.count >= 20, utf8[4] == 0x2D, utf8[7] == 0x2D, utf8[10] == 0x54 || utf8[10] == 0x74,
            utf8[13] == 0x3A, utf8[16] == 0x3A
        else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for index in range {
                let digit = Int(utf8[index]) - 48
                guard (0...9).contains(digit) else { return nil }
                value = value * 10 + digit
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
            let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19),
            (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        var index = 19
        var fraction: Int64 = 0
        if utf8[index] == 0x2E {
            index += 1
            var digits = 0
            while index < utf8.count, (0x30...0x39).contains(utf8[index]) {
                if digits < 7 { fraction = fraction * 10 + Int64(utf8[index] - 0x30) }
                digits += 1
                index += 1
            }
            guard digits > 0 else { return nil }
            for _ in digits..<max(digits, 7) { fraction *= 10 }
        }
        guard index < utf8.count else { return nil }
        var offsetSeconds = 0
        switch utf8[index] {
        case 0x5A, 0x7A:
            index += 1
        case 0x2B, 0x2D:
            guard index + 6 == utf8.count, utf8[index + 3] == 0x3A,
                let hours = number(index + 1..<index + 3), let minutes = number(index + 4..<index + 6)
            else { return nil }
            offsetSeconds = (hours * 3600 + minutes * 60) * (utf8[index] == 0x2D ? -1 : 1)
            index += 6
        default:
            return nil
        }
        guard index == utf8.count else { return nil }
        guard CivilDate.isValid(year: year, month: month, day: day) else { return nil }
        let days = Int64(CivilDate.days(year: year, month: month, day: day))
        // A leap second (:60) is read as :59, as a calendar would.
        let seconds = days * 86_400 + Int64(hour * 3_600 + minute * 60 + min(second, 59)) - Int64(offsetSeconds)
        return seconds * 10_000_000 + fraction
    }
}

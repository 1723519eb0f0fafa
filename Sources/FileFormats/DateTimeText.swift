/// Date-times as order files write them, normalised to RFC 3339 for the API.
///
/// | Input | Sent as |
/// |---|---|
/// | `2025-03-01` | `2025-03-01T00:00:00Z` (a bare date means midnight UTC) |
/// | `2025-03-01T10:30Z`, `2025-03-01 10:30:00Z` | `2025-03-01T10:30:00Z` |
/// | `2025-03-01T10:30:00.1234567+02:00` | unchanged |
/// | `2025-03-01T10:30:00` (no zone) | refused: licprov does not guess a time zone… |
/// | …with `--time-zone Europe/Berlin` | `2025-03-01T10:30:00+01:00` (see ``LocalTimeZone``) |
package enum DateTimeText {
    package static func normalize(_ raw: String, zone: LocalTimeZone? = nil) -> Result<String, CellProblem> {
        let text = raw.trimmed
        var contiguous = text
        return contiguous.withUTF8 { normalize(bytes: $0, text: text, zone: zone) }
    }

    private static func normalize(bytes: UnsafeBufferPointer<UInt8>, text: String, zone localZone: LocalTimeZone?)
        -> Result<String, CellProblem>
    {
        func fail(_ why: String) -> Result<String, CellProblem> {
            .failure(
                CellProblem("\(why), not \"\(text.prefix(40))\"; write dates as 2025-03-01 or 2025-03-01T10:30:00Z"))
        }
        func number(_ range: Range<Int>) -> Int? {
            guard range.upperBound <= bytes.count else { return nil }
            var value = 0
            for index in range {
                guard bytes[index] >= 0x30, bytes[index] <= 0x39 else { return nil }
                value = value * 10 + Int(bytes[index] - 0x30)
            }
            return value
        }
        guard bytes.count >= 10, let year = number(0..<4), bytes[4] == 0x2D, let month = number(5..<7),
            bytes[7] == 0x2D,
            let day = number(8..<10)
        else { return fail("must be a date") }
        guard (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year) else {
            return fail("is not a calendar date")
        }
        if bytes.count == 10 {
            // The usual case, written straight into the string: the date, then midnight UTC.
            return .success(
                String(unsafeUninitializedCapacity: 20) { out in
                    _ = out.initialize(fromContentsOf: bytes)
                    for (offset, byte) in "T00:00:00Z".utf8.enumerated() { out[10 + offset] = byte }
                    return 20
                })
        }
        let date = String(decoding: bytes[0..<10], as: UTF8.self)
        guard bytes[10] == UInt8(ascii: "T") || bytes[10] == UInt8(ascii: "t") || bytes[10] == 0x20,
            let hour = number(11..<13), bytes.count > 13, bytes[13] == 0x3A, let minute = number(14..<16),
            hour < 24, minute < 60
        else { return fail("must be a date and time") }
        var index = 16
        var seconds = "00"
        var secondValue = 0
        var fraction = ""
        if index < bytes.count, bytes[index] == 0x3A {
            guard let second = number(index + 1..<index + 3), second < 60 else { return fail("has bad seconds") }
            seconds = String(decoding: bytes[index + 1..<index + 3], as: UTF8.self)
            secondValue = second
            index += 3
            if index < bytes.count, bytes[index] == 0x2E {
                let start = index
                index += 1
                while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 { index += 1 }
                guard index > start + 1 else { return fail("has a decimal point without digits") }
                fraction = String(decoding: bytes[start..<index], as: UTF8.self)
            }
        }
        guard index < bytes.count else {
            guard let localZone else {
                return .failure(
                    CellProblem(
                        "has no time zone, not \"\(text.prefix(40))\"; add Z for UTC (\(date)T\(pad(hour)):\(pad(minute)):\(seconds)Z) "
                            + "or an offset such as +02:00, or pass --time-zone ZONE (UTC, +02:00, Europe/Berlin) to read every time without one in that zone"
                    ))
            }
            return localZone.zoneText(
                year: year, month: month, day: day, hour: hour, minute: minute, second: secondValue
            )
            .map { "\(date)T\(pad(hour)):\(pad(minute)):\(seconds)\(fraction)\($0)" }
        }
        let zone: String
        switch bytes[index] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            guard index + 1 == bytes.count else { return fail("has text after the time zone") }
            zone = "Z"
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            let sign = bytes[index] == UInt8(ascii: "+") ? "+" : "-"
            if let hours = number(index + 1..<index + 3), index + 6 == bytes.count, bytes[index + 3] == 0x3A,
                let minutes = number(index + 4..<index + 6), hours < 24, minutes < 60
            {
                zone = "\(sign)\(pad(hours)):\(pad(minutes))"
            } else if let hours = number(index + 1..<index + 3), index + 5 == bytes.count,
                let minutes = number(index + 3..<index + 5),
                hours < 24, minutes < 60
            {
                zone = "\(sign)\(pad(hours)):\(pad(minutes))"
            } else {
                return fail("has a bad time zone offset")
            }
        default:
            return fail("has text after the time")
        }
        return .success("\(date)T\(pad(hour)):\(pad(minute)):\(seconds)\(fraction)\(zone)")
    }

    private static func pad(_ value: Int) -> String { value < 10 ? "0\(value)" : String(value) }

    package static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}

/// ISO 8601 durations for `subscriptionInterval`: `P1Y`, `P6M`, `P2W`, `P30D`, `PT24H`, `P1Y2M3DT4H5M6S`.
package enum DurationText {
    package static func validate(_ raw: String) -> Result<String, CellProblem> {
        let text = raw.trimmed
        var contiguous = text
        // Read in place, letters as upper case; the text is copied only when it has lower case.
        let (valid, hasLowerCase) = contiguous.withUTF8 { bytes -> (Bool, Bool) in
            func upper(_ byte: UInt8) -> UInt8 { byte >= 0x61 && byte <= 0x7A ? byte - 0x20 : byte }
            let hasLowerCase = bytes.contains { $0 >= 0x61 && $0 <= 0x7A }
            // Units in the order ISO 8601 requires them; date part Y M W D, then after T: H M S.
            var valid = bytes.count > 1 && upper(bytes[0]) == UInt8(ascii: "P")
            var inTime = false
            var sawComponent = false
            var sawTimeComponent = false
            var digits = 0
            var rank = 0
            var index = 1
            while valid, index < bytes.count {
                let byte = upper(bytes[index])
                index += 1
                if byte >= 0x30, byte <= 0x39 {
                    digits += 1
                    continue
                }
                if byte == UInt8(ascii: "T") {
                    valid = !inTime && digits == 0
                    inTime = true
                    continue
                }
                let unitRank: Int
                switch (inTime, byte) {
                case (false, UInt8(ascii: "Y")): unitRank = 1
                case (false, UInt8(ascii: "M")): unitRank = 2
                case (false, UInt8(ascii: "W")): unitRank = 3
                case (false, UInt8(ascii: "D")): unitRank = 4
                case (true, UInt8(ascii: "H")): unitRank = 5
                case (true, UInt8(ascii: "M")): unitRank = 6
                case (true, UInt8(ascii: "S")): unitRank = 7
                default: unitRank = 0
                }
                guard digits > 0, unitRank > rank else {
                    valid = false
                    break
                }
                rank = unitRank
                digits = 0
                sawComponent = true
                if inTime { sawTimeComponent = true }
            }
            return (valid && digits == 0 && sawComponent && (!inTime || sawTimeComponent), hasLowerCase)
        }
        guard valid else {
            return .failure(
                CellProblem("must be an ISO 8601 duration such as P1Y, P6M, P30D or PT24H, not \"\(raw.prefix(40))\""))
        }
        // A valid duration is ASCII, so upper-casing it changes letters only.
        return .success(hasLowerCase ? text.uppercased() : text)
    }
}

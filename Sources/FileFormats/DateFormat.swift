/// A local date format (`--date-format`, `[dates] format`): `dd/MM/yyyy`, `MM/dd/yyyy`,
/// `dd.MM.yyyy`, `yyyy-MM-dd HH:mm` and the like, so that a reseller's `03/11/2026` is read as they
/// meant it — never guessed. `yyyy` takes four digits; `MM`, `dd`, `HH`, `mm`, `ss` one or two;
/// `Z` an offset from UTC as the text writes it (`+0100`, `+01:00`, `Z`: Shopify's
/// `2026-11-05 10:23:11 +0100` is `yyyy-MM-dd HH:mm:ss Z`); anything else in the pattern must be
/// written as is. A date comes out as `2026-11-03` (midnight UTC, as any bare date), a date and
/// time as `2026-11-03T10:30:00`, which has no zone and so is read in `--time-zone` (refused
/// without it, as for any zone-less time) — unless the pattern reads its offset.
package struct DateFormat: Sendable, Equatable, CustomStringConvertible {
    package enum Token: Sendable, Equatable {
        case year, month, day, hour, minute, second, offset
        case literal(UInt8)
    }

    private(set) var tokens: [Token]
    package private(set) var description: String
    /// Whether it has a time of day (`HH`).
    package let hasTime: Bool

    /// Parses a pattern; throws a message naming what is not understood.
    package init(pattern: String) throws(IngestionError) {
        var tokens: [Token] = []
        let bytes = Array(pattern.utf8)
        var index = 0
        func run(_ byte: UInt8) -> Int {
            var end = index
            while end < bytes.count, bytes[end] == byte { end += 1 }
            return end - index
        }
        while index < bytes.count {
            let byte = bytes[index]
            let length = run(byte)
            let token: Token?
            switch (byte, length) {
            case (UInt8(ascii: "y"), 4): token = .year
            case (UInt8(ascii: "M"), 2): token = .month
            case (UInt8(ascii: "d"), 2): token = .day
            case (UInt8(ascii: "H"), 2): token = .hour
            case (UInt8(ascii: "m"), 2): token = .minute
            case (UInt8(ascii: "s"), 2): token = .second
            case (UInt8(ascii: "Z"), 1): token = .offset
            case (let letter, _)
            where (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(letter)
                || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(letter):
                token = nil
            default:
                token = .literal(byte)
                index += 1
                tokens.append(token!)
                continue
            }
            guard let token else {
                throw .badOption(
                    "--date-format \(pattern): \"\(String(repeating: Character(UnicodeScalar(byte)), count: length))\" is not understood; "
                        + "use yyyy, MM, dd, HH, mm, ss, Z and separators, e.g. dd/MM/yyyy or yyyy-MM-dd HH:mm")
            }
            tokens.append(token)
            index += length
        }
        guard tokens.contains(.year), tokens.contains(.month), tokens.contains(.day) else {
            throw .badOption("--date-format \(pattern): a format needs yyyy, MM and dd")
        }
        if tokens.contains(.minute) && !tokens.contains(.hour) {
            throw .badOption("--date-format \(pattern): mm (minutes) needs HH")
        }
        if tokens.contains(.offset) && !tokens.contains(.hour) {
            throw .badOption("--date-format \(pattern): Z (the offset) needs a time, HH")
        }
        self.tokens = tokens
        description = pattern
        hasTime = tokens.contains(.hour)
    }

    /// A copy that shares no array or string with this one (see ``RowBuilder/unshared()``): every
    /// date cell reads the tokens.
    package var unshared: DateFormat {
        var copy = self
        copy.tokens = tokens.map { $0 }
        copy.description = description.unshared
        return copy
    }

    /// `text` in this format as ISO 8601 (`2026-11-03`, `2026-11-03T10:30:00`); nil when it is not
    /// written so; a failure when it is, but names no calendar date or time.
    /// With `midnightUTC`, a date without a time comes out as the API takes it (`2026-11-03T00:00:00Z`).
    package func iso(_ text: String, midnightUTC: Bool = false) -> Result<String, CellProblem>? {
        var bytes = text
        return bytes.withUTF8 { iso($0, text: text, midnightUTC: midnightUTC && !hasTime) }
    }

    private func iso(_ bytes: UnsafeBufferPointer<UInt8>, text: String, midnightUTC: Bool) -> Result<
        String, CellProblem
    >? {
        var index = 0
        var year = 0
        var month = 0
        var day = 0
        var hour = 0
        var minute = 0
        var second = 0
        /// `+01:00`, or `Z`; nil: the text names no zone.
        var offset: [UInt8]?
        func digits(min: Int, max: Int) -> Int? {
            var value = 0
            var count = 0
            while index < bytes.count, count < max, bytes[index] >= 0x30, bytes[index] <= 0x39 {
                value = value * 10 + Int(bytes[index] - 0x30)
                index += 1
                count += 1
            }
            return count >= min ? value : nil
        }
        for token in tokens {
            switch token {
            case .year:
                guard let value = digits(min: 4, max: 4) else { return nil }
                year = value
            case .month:
                guard let value = digits(min: 1, max: 2) else { return nil }
                month = value
            case .day:
                guard let value = digits(min: 1, max: 2) else { return nil }
                day = value
            case .hour:
                guard let value = digits(min: 1, max: 2) else { return nil }
                hour = value
            case .minute:
                guard let value = digits(min: 1, max: 2) else { return nil }
                minute = value
            case .second:
                guard let value = digits(min: 1, max: 2) else { return nil }
                second = value
            case .offset:
                guard index < bytes.count else { return nil }
                if bytes[index] == UInt8(ascii: "Z") {
                    index += 1
                    offset = [UInt8(ascii: "Z")]
                    continue
                }
                let sign = bytes[index]
                guard sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") else { return nil }
                index += 1
                guard let hours = digits(min: 2, max: 2) else { return nil }
                if index < bytes.count, bytes[index] == UInt8(ascii: ":") { index += 1 }
                guard let minutes = digits(min: 2, max: 2), hours < 24, minutes < 60 else { return nil }
                offset = [
                    sign, UInt8(0x30 + hours / 10), UInt8(0x30 + hours % 10), UInt8(ascii: ":"),
                    UInt8(0x30 + minutes / 10),
                    UInt8(0x30 + minutes % 10),
                ]
            case .literal(let byte):
                guard index < bytes.count, bytes[index] == byte else { return nil }
                index += 1
            }
        }
        guard index == bytes.count else { return nil }
        guard (1...12).contains(month), day >= 1, day <= DateTimeText.daysIn(month: month, year: year) else {
            return .failure(CellProblem("is not a calendar date: \"\(text)\" read as \(description)"))
        }
        guard hour < 24, minute < 60, second < 60 else {
            return .failure(CellProblem("is not a time of day: \"\(text)\" read as \(description)"))
        }
        // Written byte by byte: a date fits a small string, which needs no allocation.
        let length = (hasTime ? 19 : midnightUTC ? 20 : 10) + (offset?.count ?? 0)
        return .success(
            String(unsafeUninitializedCapacity: length) { out in
                func put(_ value: Int, _ width: Int, at offset: Int) {
                    var value = value
                    for position in stride(from: offset + width - 1, through: offset, by: -1) {
                        out[position] = UInt8(0x30 + value % 10)
                        value /= 10
                    }
                }
                put(year, 4, at: 0)
                out[4] = UInt8(ascii: "-")
                put(month, 2, at: 5)
                out[7] = UInt8(ascii: "-")
                put(day, 2, at: 8)
                if hasTime {
                    out[10] = UInt8(ascii: "T")
                    put(hour, 2, at: 11)
                    out[13] = UInt8(ascii: ":")
                    put(minute, 2, at: 14)
                    out[16] = UInt8(ascii: ":")
                    put(second, 2, at: 17)
                } else if midnightUTC {
                    for (offset, byte) in "T00:00:00Z".utf8.enumerated() { out[10 + offset] = byte }
                }
                if let offset, hasTime {
                    for (position, byte) in offset.enumerated() { out[19 + position] = byte }
                }
                return length
            })
    }
}

/// How date cells are read: a local format (`--date-format`), and the zone of times written
/// without one (`--time-zone`).
package struct DateReading: Sendable, Equatable {
    package var format: DateFormat?
    package var zone: LocalTimeZone?

    package init(format: DateFormat? = nil, zone: LocalTimeZone? = nil) {
        self.format = format
        self.zone = zone
    }

    /// A cell's date-time as RFC 3339 for the API.
    package func normalize(_ text: String) -> Result<String, CellProblem> {
        if let format, let iso = format.iso(text.trimmed, midnightUTC: true) {
            // A date alone is midnight UTC, as any bare date; a time of day is read in the zone.
            return format.hasTime ? iso.flatMap { DateTimeText.normalize($0, zone: zone) } : iso
        }
        let normalized = DateTimeText.normalize(text, zone: zone)
        // An ISO date that fails (no zone, no such day) says why itself.
        if case .failure = normalized, let format, !Self.looksISO(text.trimmed) {
            return .failure(
                CellProblem(
                    "must be a date written \(format) (--date-format) or as 2025-03-01, not \"\(text.trimmed.prefix(40))\""
                ))
        }
        return normalized
    }

    /// `2026-11-03…`: four digits, a dash, two digits.
    package static func looksISO(_ text: String) -> Bool {
        let bytes = Array(text.utf8.prefix(8))
        return bytes.count == 8 && bytes[0..<4].allSatisfy { (0x30...0x39).contains($0) }
            && bytes[4] == UInt8(ascii: "-")
            && bytes[5...6].allSatisfy { (0x30...0x39).contains($0) } && bytes[7] == UInt8(ascii: "-")
    }
}

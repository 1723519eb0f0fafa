import Foundation

/// How a cell's stored value becomes the text a CSV would have held: numbers, dates by serial
/// (1900 and 1904 systems), column letters, and which number formats are dates.
extension XLSXReader {
    /// A number as a CSV would hold it: a whole number without its `.0`.
    package static func number(_ text: String) -> String {
        // (Bytes, not `contains(".")`: that is Foundation's substring search, per cell.)
        guard
            text.utf8.contains(where: { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "E") || $0 == UInt8(ascii: "e") }
            ),
            let value = Double(text), value.isFinite, value == value.rounded(), abs(value) < 9_007_199_254_740_992
        else { return text }
        return String(Int64(value))
    }

    /// An Excel serial date as ISO 8601: `yyyy-MM-dd`, with `THH:mm:ss` when it has a time of day.
    /// The 1900 system counts 1900-02-29, which never was (Lotus's bug, kept by Excel): serials from
    /// 61 on are one day ahead of the calendar.
    package static func date(serial: Double, date1904: Bool) -> String {
        var days = Int(serial.rounded(.down))
        var seconds = Int(((serial - Double(days)) * 86_400).rounded())
        if seconds >= 86_400 {
            days += 1
            seconds -= 86_400
        }
        // Days since 1970-01-01.
        let epochDays = date1904 ? days - 24_107 : (days >= 61 ? days - 25_569 : days - 25_568)
        let (year, month, day) = civil(fromDays: epochDays)
        // By hand: String(format:) goes through Foundation's formatter, a tenth of a sheet's time.
        func digits(_ value: Int, _ width: Int) -> String {
            let text = String(abs(value))
            return (value < 0 ? "-" : "") + String(repeating: "0", count: max(0, width - text.count)) + text
        }
        let date = digits(year, 4) + "-" + digits(month, 2) + "-" + digits(day, 2)
        guard seconds > 0 else { return date }
        return date + "T" + digits(seconds / 3600, 2) + ":" + digits(seconds / 60 % 60, 2) + ":"
            + digits(seconds % 60, 2)
    }

    /// Howard Hinnant's days-to-civil: the proleptic Gregorian date `days` after 1970-01-01.
    package static func civil(fromDays days: Int) -> (Int, Int, Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// `D7` → 3; `AA1` → 26.
    package static func column(_ reference: String) -> Int? {
        var reference = reference
        return reference.withUTF8(column)
    }

    /// A sheet's columns: A to XFD.
    package static let maxColumns = 16_384
    /// A sheet's rows.
    package static let maxRows = 1_048_576

    /// The column of a reference (`D7` → 3), nil when its letters name no column of a sheet.
    package static func column(_ reference: UnsafeBufferPointer<UInt8>) -> Int? {
        var column = 0
        var letters = 0
        for byte in reference {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): column = column * 26 + Int(byte - UInt8(ascii: "A")) + 1
            case UInt8(ascii: "a")...UInt8(ascii: "z"): column = column * 26 + Int(byte - UInt8(ascii: "a")) + 1
            default: return letters > 0 && column <= maxColumns ? column - 1 : nil
            }
            letters += 1
            if letters > 3 { return nil }
        }
        return letters > 0 && column <= maxColumns ? column - 1 : nil
    }

    /// 3 → `D`; 26 → `AA`.
    package static func letters(_ column: Int) -> String {
        var column = column + 1
        var result: [Character] = []
        while column > 0 {
            let remainder = (column - 1) % 26
            result.insert(Character(UnicodeScalar(UInt8(65 + remainder))), at: 0)
            column = (column - 1) / 26
        }
        return String(result)
    }

    /// Excel's built-in number formats that are dates or times.
    package static let builtinDateFormats: Set<Int> = Set(14...22).union(45...47).union(27...36).union(50...58)

    /// Whether a format code shows a date or time: y, d, h or s outside quotes, brackets and escapes
    /// (`m` alone could be minutes or months, and appears with the others anyway).
    package static func isDateFormat(_ code: String) -> Bool {
        var inQuotes = false
        var inBrackets = false
        var escaped = false
        for character in code.lowercased() {
            if escaped {
                escaped = false
                continue
            }
            switch character {
            case "\\": escaped = true
            case "\"": inQuotes.toggle()
            case "[" where !inQuotes: inBrackets = true
            case "]" where !inQuotes: inBrackets = false
            case "y", "d", "h", "s": if !inQuotes && !inBrackets { return true }
            default: break
            }
        }
        return false
    }
}

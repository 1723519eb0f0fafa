import Foundation

/// An ISO 8601 duration as `subscriptionInterval` carries it (`P1Y`, `P6M`, `P2W`, `P30D`,
/// `PT24H`, `P1Y2M3DT4H5M6S`), added to a time in UTC by calendar (a month from 31 January
/// is the last day of February).
struct ISODuration: Equatable {
    var components = DateComponents()

    init?(_ text: String) {
        var rest = Substring(text.uppercased())
        guard rest.first == "P", rest.count > 1 else { return nil }
        rest = rest.dropFirst()
        var inTime = false
        var number = ""
        var any = false
        for character in rest {
            if character == "T" {
                guard !inTime, number.isEmpty else { return nil }
                inTime = true
                continue
            }
            if character.isASCII, character.isNumber {
                number.append(character)
                continue
            }
            guard let value = Int(number) else { return nil }
            number = ""
            any = true
            switch (character, inTime) {
            case ("Y", false): components.year = value
            case ("M", false): components.month = value
            case ("W", false): components.day = (components.day ?? 0) + 7 * value
            case ("D", false): components.day = (components.day ?? 0) + value
            case ("H", true): components.hour = value
            case ("M", true): components.minute = value
            case ("S", true): components.second = value
            default: return nil
            }
        }
        guard number.isEmpty, any else { return nil }
    }

    /// `ticks` (100 ns since 1970) plus this duration.
    func added(to ticks: Int64) -> Int64 {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let date = Date(timeIntervalSince1970: Double(ticks) / 10_000_000)
        guard let result = calendar.date(byAdding: components, to: date) else { return ticks }
        return Int64((result.timeIntervalSince1970 * 10_000_000).rounded())
    }
}

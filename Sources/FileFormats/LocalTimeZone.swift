import Foundation

/// The zone a date-time written without one is read in — only when the user names it
/// (`--time-zone`); licprov never guesses one.
///
/// | `--time-zone` | `2015-05-01T11:16:16` is sent as |
/// |---|---|
/// | `UTC` (or `Z`) | `2015-05-01T11:16:16Z` |
/// | `+02:00`, `-0530` | `2015-05-01T11:16:16+02:00` |
/// | `Europe/Berlin` (IANA) | `2015-05-01T11:16:16+02:00` (summer time that day; `+01:00` in winter) |
///
/// A local time that does not exist in a named zone (skipped when clocks go forward) or exists
/// twice (when they go back) is refused with the two readings, never picked.
package enum LocalTimeZone: Sendable, Equatable {
    /// A fixed offset from UTC, in seconds (0: UTC).
    case offset(seconds: Int)
    /// An IANA zone, with its daylight-saving rules.
    case named(TimeZone)

    /// Parses `UTC`, `Z`, `+02:00`, `+0200`, `-05:30` or an IANA name such as `Europe/Berlin`.
    package init(parsing text: String) throws(IngestionError) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if ["utc", "z", "gmt"].contains(trimmed.lowercased()) {
            self = .offset(seconds: 0)
            return
        }
        if let first = trimmed.first, first == "+" || first == "-" {
            let digits = trimmed.dropFirst().filter { $0 != ":" }
            guard digits.count == 4, digits.allSatisfy(\.isASCII), let hours = Int(digits.prefix(2)),
                let minutes = Int(digits.suffix(2)),
                hours < 24, minutes < 60,
                trimmed.count == 5 || (trimmed.count == 6 && trimmed.dropFirst(3).first == ":")
            else {
                throw .badOption("--time-zone \(text): an offset is written +HH:MM, e.g. +02:00 or -05:30")
            }
            self = .offset(seconds: (first == "-" ? -1 : 1) * (hours * 3600 + minutes * 60))
            return
        }
        guard trimmed.contains("/"), let zone = TimeZone(identifier: trimmed) else {
            throw .badOption(
                "--time-zone \(text): expected UTC, an offset such as +02:00, or an IANA zone name such as Europe/Berlin"
            )
        }
        self = .named(zone)
    }

    /// The offset (as `Z` or `±HH:MM`) of the local date-time `fields` in this zone.
    package func zoneText(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) -> Result<
        String, CellProblem
    > {
        switch self {
        case .offset(let seconds):
            return .success(Self.format(seconds))
        case .named(let zone):
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = TimeZone(secondsFromGMT: 0)!
            guard
                let asUTC = calendar.date(
                    from: DateComponents(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
                )
            else {
                return .failure(CellProblem("is not a date-time \(zone.identifier) can read"))
            }
            // The offsets in force around that wall-clock time; each one that maps back to it is a reading.
            let candidates = Set([-86_400.0, 0, 86_400].map { zone.secondsFromGMT(for: asUTC.addingTimeInterval($0)) })
            let readings = candidates.filter { zone.secondsFromGMT(for: asUTC.addingTimeInterval(-Double($0))) == $0 }
                .sorted()
            switch readings.count {
            case 1:
                return .success(Self.format(readings[0]))
            case 0:
                return .failure(
                    CellProblem("does not exist in \(zone.identifier) (the clocks skipped it); write it with an offset")
                )
            default:
                return .failure(
                    CellProblem(
                        "happens twice in \(zone.identifier) (the clocks went back): write it with the offset you mean, "
                            + readings.reversed().map(Self.format).joined(separator: " or ")))
            }
        }
    }

    package static func format(_ seconds: Int) -> String {
        guard seconds != 0 else { return "Z" }
        let magnitude = abs(seconds)
        let hours = magnitude / 3600
        let minutes = magnitude % 3600 / 60
        return (seconds < 0 ? "-" : "+") + (hours < 10 ? "0" : "") + "\(hours):" + (minutes < 10 ? "0" : "")
            + "\(minutes)"
    }
}

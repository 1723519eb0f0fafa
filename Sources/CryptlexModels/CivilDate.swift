/// Proleptic Gregorian dates as days since 1970-01-01, with no `Calendar`: the client reads a date
/// in every answer (`createdAt`, `X-Rate-Limit-Reset`, `Date`), and this is all that needs.
package enum CivilDate {
    /// Days since 1970-01-01 of `year`-`month`-`day` (Howard Hinnant's days_from_civil).
    package static func days(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// Whether `day` is a day of `month` (1–12) in `year`.
    package static func isValid(year: Int, month: Int, day: Int) -> Bool {
        guard (1...12).contains(month), day >= 1 else { return false }
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let lengths = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        return day <= lengths[month - 1]
    }
}

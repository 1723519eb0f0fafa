import Testing

@testable import FileFormats
@testable import Ingestion

/// `--time-zone`: how a date-time written without a zone is read, and what is refused.
@Suite("Date-times without a zone")
struct TimeZoneTests {
    func read(_ text: String, in zone: String?) throws -> Result<String, CellProblem> {
        DateTimeText.normalize(text, zone: try zone.map { try LocalTimeZone(parsing: $0) })
    }

    @Test(arguments: [
        ("2015-05-01T11:16:16", "UTC", "2015-05-01T11:16:16Z"),
        ("2015-05-01T11:16:16", "z", "2015-05-01T11:16:16Z"),
        ("2015-05-01 11:16", "+02:00", "2015-05-01T11:16:00+02:00"),
        ("2015-05-01T11:16:16.1234567", "-0530", "2015-05-01T11:16:16.1234567-05:30"),
        ("2015-05-01T11:16:16", "Europe/Berlin", "2015-05-01T11:16:16+02:00"),
        ("2015-12-01T11:16:16", "Europe/Berlin", "2015-12-01T11:16:16+01:00"),
        ("2016-06-01T12:36:56", "America/New_York", "2016-06-01T12:36:56-04:00"),
        // A zone in the text wins over the flag; a bare date stays midnight UTC.
        ("2015-05-01T11:16:16+09:00", "Europe/Berlin", "2015-05-01T11:16:16+09:00"),
        ("2015-05-01", "Europe/Berlin", "2015-05-01T00:00:00Z"),
    ])
    func zoneLessTimesAreReadInTheNamedZone(text: String, zone: String, expected: String) throws {
        #expect(try read(text, in: zone) == .success(expected))
    }

    @Test func withoutTheFlagTheyAreRefusedAndTheMessageNamesIt() throws {
        guard case .failure(let problem) = try read("2015-05-01T11:16:16", in: nil) else {
            Issue.record("a zone-less time was accepted without --time-zone")
            return
        }
        #expect(problem.message.contains("--time-zone ZONE"))
    }

    /// 2021-03-28 02:30 does not exist in Berlin (clocks 02:00 → 03:00); 2021-10-31 02:30 happens twice.
    @Test func skippedAndRepeatedLocalTimesAreRefusedNotGuessed() throws {
        guard case .failure(let gap) = try read("2021-03-28T02:30:00", in: "Europe/Berlin") else {
            Issue.record("a skipped local time was accepted")
            return
        }
        #expect(gap.message.contains("does not exist in Europe/Berlin"))
        guard case .failure(let fold) = try read("2021-10-31T02:30:00", in: "Europe/Berlin") else {
            Issue.record("a repeated local time was accepted")
            return
        }
        #expect(fold.message.contains("+02:00 or +01:00"))
        #expect(try read("2021-10-31T03:30:00", in: "Europe/Berlin") == .success("2021-10-31T03:30:00+01:00"))
    }

    @Test(arguments: ["Mars/Olympus", "CEST", "+25:00", "+2", "02:00", "", "+02:00:00"])
    func aZoneThatIsNotOneIsAUsageError(text: String) {
        #expect(throws: IngestionError.self) { try LocalTimeZone(parsing: text) }
    }
}

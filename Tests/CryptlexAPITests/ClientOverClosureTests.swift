import CryptlexModels
import Foundation
import Scheduling
import Testing

@testable import CryptlexAPI

@Suite("CryptlexClient parsing and classification over a closure transport")
struct ClientOverClosureTests {
    static func client(
        _ handler: @escaping @Sendable (TransportRequest) async throws(TransportError) -> TransportResponse
    ) throws -> CryptlexClient {
        CryptlexClient(
            baseURL: try CryptlexBaseURL("https://api.cryptlex.com"), token: "secret-token",
            transport: ClosureTransport(handler))
    }

    @Test(arguments: [
        (400, "permanent"), (404, "permanent"), (409, "permanent"), (422, "permanent"),
        (401, "stopRun"), (403, "stopRun"),
        (500, "ambiguous"), (502, "ambiguous"), (504, "ambiguous"), (503, "ambiguous"),
    ])
    func statusIsClassifiedOnce(status: Int, expected: String) async throws {
        let client = try Self.client { _ in TransportResponse(status: status) }
        let error = await apiError { try await client.createLicense(LicenseRequest(productId: "p")) }
        #expect(String(describing: error?.outcome ?? .retryable(after: nil)) == expected)
    }

    @Test func errorBodiesOfAnyShapeGiveAMessage() async throws {
        let bodies: [(String, [(String, String)], String)] = [
            (#"{"message":"Key taken.","code":"DUPLICATE_FIELD_VALUE"}"#, [], "Key taken."),
            ("Too many requests, slow down", [], "Too many requests, slow down"),
            ("<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>", [], "502 Bad Gateway"),
            ("", [], "Bad Gateway"),
            ("\u{FF}\u{FE}garbage", [], "\u{FF}\u{FE}garbage"),
        ]
        for (body, headers, message) in bodies {
            let client = try Self.client { _ in TransportResponse(status: 502, headers: headers, body: Array(body.utf8))
            }
            let error = await apiError { try await client.createLicense(LicenseRequest(productId: "p")) }
            guard case .http(502, _, let parsed)? = error?.failure else {
                Issue.record("no http failure for body \(body)")
                continue
            }
            #expect(parsed == message)
        }
    }

    @Test func retryAfterInSecondsOrAsAnHTTPDateMakesA503Retryable() async throws {
        let date = Date().addingTimeInterval(30)
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE',' dd MMM yyyy HH':'mm':'ss 'GMT'"
        for value in ["12", formatter.string(from: date)] {
            let client = try Self.client { _ in TransportResponse(status: 503, headers: [("retry-after", value)]) }
            let error = await apiError { try await client.createLicense(LicenseRequest(productId: "p")) }
            guard case .retryable(let after?)? = error?.outcome else {
                Issue.record("503 with Retry-After \(value) not retryable: \(String(describing: error?.outcome))")
                continue
            }
            #expect(after > .seconds(5) && after <= .seconds(31))
        }
    }

    /// The HTTP-date reader (by hand: a formatter per response was a seventh of a run's CPU) agrees
    /// with Foundation's formatter on dates across centuries, leap days and every month, and refuses
    /// what is not an IMF-fixdate.
    @Test func httpDatesAreReadAsFoundationsFormatterReadsThem() {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE',' dd MMM yyyy HH':'mm':'ss 'GMT'"
        var seconds: TimeInterval = -2_208_988_800  // 1900-01-01
        while seconds < 4_102_444_800 {  // 2100-01-01
            let text = formatter.string(from: Date(timeIntervalSince1970: seconds))
            #expect(RateLimitStatus.parseHTTPDate(text) == formatter.date(from: text), "\(text)")
            seconds += 7_654_321.5.rounded()  // about 88 days and some hours: every month, many years
        }
        #expect(RateLimitStatus.parseHTTPDate("Thu, 29 Feb 2024 23:59:60 GMT")?.timeIntervalSince1970 == 1_709_251_200)
        for bad in [
            "", "Sun, 6 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 1994 08:49:37 UTC", "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994", "Sun, 06 Nob 1994 08:49:37 GMT", "Sun, 06 Nov 1994 24:00:00 GMT",
            "Sun, 32 Nov 1994 08:49:37 GMT",
        ] {
            #expect(RateLimitStatus.parseHTTPDate(bad) == nil, "\(bad)")
        }
    }

    @Test func aSuccessWithAnUnreadableBodyIsAmbiguous() async throws {
        let client = try Self.client { _ in TransportResponse(status: 201, body: Array("<html>ok</html>".utf8)) }
        let error = await apiError { try await client.createLicense(LicenseRequest(productId: "p")) }
        #expect(error?.outcome == .ambiguous)
    }

    @Test func transportFailuresAreClassifiedByWhetherTheRequestWasSent() async throws {
        let cases: [(TransportError, OutcomeClass)] = [
            (.connectFailed("refused"), .retryable(after: nil)),
            (.connectionLost("reset"), .ambiguous),
            (.timedOut("deadline"), .ambiguous),
            (.cancelled, .ambiguous),
        ]
        for (failure, expected) in cases {
            let client = try Self.client { _ throws(TransportError) in throw failure }
            let error = await apiError { try await client.createLicense(LicenseRequest(productId: "p")) }
            #expect(error?.outcome == expected, "\(failure)")
            let lookup = await apiError { try await client.findLicenses(LicenseQuery(key: "k")) }
            #expect(lookup?.outcome == .retryable(after: nil), "a GET is always safe to repeat")
        }
    }

    @Test func requestsCarryTheTokenOnlyInTheHeaderAndEncodeFilters() async throws {
        let seen = RequestLog()
        let client = try Self.client { request in
            await seen.append(request)
            return TransportResponse(status: 200, body: Array("[]".utf8))
        }
        _ = try await client.findLicenses(
            LicenseQuery(key: "A B+C&D", metadataKey: "licprov_request", metadataValue: "v/1"), page: 2, limit: 50)
        let request = try #require(await seen.requests.first)
        #expect(
            request.url
                == "https://api.cryptlex.com/v3/licenses?key%5Beq%5D=A%20B%2BC%26D&metadata.key%5Beq%5D=licprov_request&metadata.value%5Beq%5D=v%2F1&page=2&limit=50"
        )
        #expect(request.headers.contains { $0 == ("Authorization", "Bearer secret-token") })
        let error = await apiError {
            try await Self.client { _ in TransportResponse(status: 401, body: Array(#"{"message":"bad"}"#.utf8)) }
                .findLicenses(LicenseQuery())
        }
        #expect(error?.errorDescription?.contains("secret-token") == false)
    }

    @Test func timestampsWithSevenFractionalDigitsParse() throws {
        let stamp = try #require(CryptlexTimestamp("2018-05-06T08:49:17.9361143Z"))
        #expect(stamp.ticks == 1_525_596_557 * 10_000_000 + 9_361_143)
        let whole = try #require(CryptlexTimestamp("2018-05-06T08:49:17Z"))
        #expect(whole.ticks == 15_255_965_570_000_000)
        let offset = try #require(CryptlexTimestamp("2018-05-06T10:49:17.5+02:00"))
        #expect(offset.ticks == 15_255_965_575_000_000)
        #expect(CryptlexTimestamp("2018-02-30T00:00:00Z") == nil)
        #expect(CryptlexTimestamp("yesterday") == nil)
    }

    /// Dates are counted by hand (`CivilDate`, no `Calendar`): every day from 1900 to 2100 agrees
    /// with a Gregorian calendar's, and days a month does not have are refused.
    @Test func timestampsCountDaysAsTheCalendarDoes() throws {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: 0)!
        var day = try #require(calendar.date(from: DateComponents(year: 1900, month: 1, day: 1, hour: 13, minute: 7)))
        let end = try #require(calendar.date(from: DateComponents(year: 2100, month: 12, day: 31)))
        while day < end {
            let parts = calendar.dateComponents([.year, .month, .day], from: day)
            let text = String(format: "%04d-%02d-%02dT13:07:00Z", parts.year!, parts.month!, parts.day!)
            #expect(CryptlexTimestamp(text)?.date == day, "\(text)")
            day = day.addingTimeInterval(86_400)
        }
        #expect(CryptlexTimestamp("2024-02-29T00:00:00Z") != nil)
        for bad in ["2100-02-29T00:00:00Z", "2023-02-29T00:00:00Z", "2024-04-31T00:00:00Z", "2024-13-01T00:00:00Z"] {
            #expect(CryptlexTimestamp(bad) == nil, "\(bad)")
        }
    }

    @Test func rateLimitHeadersParse() {
        let headers = [
            "X-Rate-Limit-Limit": "5s", "X-Rate-Limit-Remaining": "7",
            "X-Rate-Limit-Reset": "2026-01-01T00:00:05.0000000Z",
        ]
        let status = RateLimitStatus(header: { headers[$0] })
        #expect(status.window == .seconds(5))
        #expect(status.remaining == 7)
        #expect(status.reset == Date(timeIntervalSince1970: 1_767_225_605))
        #expect(RateLimitStatus(header: { _ in "junk" }).isEmpty)
    }

    @Test(arguments: [
        ("https://api.cryptlex.com", true), ("https://api.eu.cryptlex.com/", true), ("http://127.0.0.1:8080", true),
        ("https://licensing.example.com/api", true), ("http://127.0.0.1:70000", false), ("ftp://x", false),
        ("https://", false), ("https://user:pw@api.cryptlex.com", false), ("https://api.cryptlex.com?x=1", false),
    ])
    func baseURLsAreValidatedBeforeUse(url: String, valid: Bool) {
        #expect(((try? CryptlexBaseURL(url)) != nil) == valid)
    }
}

actor RequestLog {
    var requests: [TransportRequest] = []
    func append(_ request: TransportRequest) { requests.append(request) }
}

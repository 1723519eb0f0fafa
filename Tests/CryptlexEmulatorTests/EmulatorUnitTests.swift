import Foundation
import Testing

@testable import CryptlexEmulator

@Suite("Emulator parts without a server")
struct EmulatorUnitTests {
    /// Paging a scan continues from where the last page stopped; the pages are what a scan from
    /// the start gives, also when another query, or a write, comes between two pages.
    @Test func pagedScansGiveTheSamePagesWithTheirCursor() async throws {
        let store = EmulatorStore(products: ["p"], seed: 1)
        for index in 0..<250 {
            let group = index % 3 == 0 ? "a" : "b"
            _ = try await store.createLicense(
                [
                    "productId": .string("p"),
                    "metadata": .array([.object(["key": .string("group"), "value": .string(group)])]),
                ],
                nowTicks: Int64(index))
        }
        func page(_ number: Int, group: String = "a") async throws -> [String] {
            var filter = try LicenseFilter(query: [
                ("metadata.key[eq]", "group"), ("metadata.value[sw]", group), ("limit", "30"), ("page", String(number)),
            ])
            filter.page = number
            return await store.findLicenses(filter).compactMap {
                if case .object(let license) = $0, case .string(let id)? = license["id"] { id } else { nil }
            }
        }
        let all = await store.allLicenses().compactMap { license -> String? in
            guard case .object(let fields) = license, case .array(let metadata)? = fields["metadata"],
                metadata.contains(where: {
                    if case .object(let entry) = $0 { entry["value"] == .string("a") } else { false }
                }),
                case .string(let id)? = fields["id"]
            else { return nil }
            return id
        }
        #expect(all.count == 84)
        let first = try await page(1)
        let second = try await page(2)
        _ = try await page(1, group: "b")  // another query between two pages
        let third = try await page(3)
        #expect(first + second + third == Array(all.prefix(90)))
        _ = try await store.createLicense(["productId": .string("p")], nowTicks: 999)  // a write between two pages
        #expect(try await page(2) == Array(all[30..<60]))
        #expect(try await page(3) == Array(all[60..<84]))
    }

    @Test func theFixedWindowResetsAtTheWindowBoundary() async {
        let limiter = FixedWindowRateLimiter(limit: 50, windowSeconds: 5)
        let windowStart: Int64 = 1_800_000_000 * 10_000_000
        for index in 0..<50 {
            let decision = await limiter.admit(client: "1.2.3.4", nowTicks: windowStart + Int64(index) * 1_000_000)
            #expect(decision == .allowed(remaining: 49 - index, resetTicks: windowStart + 50_000_000))
        }
        #expect(
            await limiter.admit(client: "1.2.3.4", nowTicks: windowStart + 49_000_000) == .refused(retryAfterSeconds: 1)
        )
        #expect(
            await limiter.admit(client: "1.2.3.4", nowTicks: windowStart + 10_000_000) == .refused(retryAfterSeconds: 4)
        )
        // Another IP has its own window.
        #expect(
            await limiter.admit(client: "5.6.7.8", nowTicks: windowStart + 49_000_000)
                == .allowed(remaining: 49, resetTicks: windowStart + 50_000_000))
        // The next window starts from zero.
        #expect(
            await limiter.admit(client: "1.2.3.4", nowTicks: windowStart + 50_000_000)
                == .allowed(remaining: 49, resetTicks: windowStart + 100_000_000))
    }

    /// A window that starts with the first request after the last one expired, and says so.
    @Test func aFirstRequestWindowStartsWithItsFirstRequest() async {
        let limiter = FixedWindowRateLimiter(limit: 3, windowSeconds: 5, style: .firstRequest)
        let first: Int64 = 1_800_000_000 * 10_000_000 + 12_345_678  // mid-grid
        for index in 0..<3 {
            #expect(
                await limiter.admit(client: "a", nowTicks: first + Int64(index) * 10_000_000)
                    == .allowed(remaining: 2 - index, resetTicks: first + 50_000_000))
        }
        #expect(await limiter.admit(client: "a", nowTicks: first + 49_999_999) == .refused(retryAfterSeconds: 1))
        // The next window starts with the next request, not on the grid.
        let next = first + 61_000_000
        #expect(
            await limiter.admit(client: "a", nowTicks: next) == .allowed(remaining: 2, resetTicks: next + 50_000_000))
    }

    /// Counted from the first request, reported on the grid: the reported end comes and goes while
    /// the count goes on (and Retry-After names the grid's end too).
    @Test func aRedisStyleWindowReportsTheGridWhileCountingFromTheFirstRequest() async {
        let limiter = FixedWindowRateLimiter(limit: 3, windowSeconds: 5, style: .firstRequestGridReported)
        let grid: Int64 = 1_800_000_000 * 10_000_000
        let first = grid + 40_000_000  // 1 s before the grid's end
        #expect(
            await limiter.admit(client: "a", nowTicks: first) == .allowed(remaining: 2, resetTicks: grid + 50_000_000))
        // Past the grid's end: the reported end moves on, the count does not restart.
        #expect(
            await limiter.admit(client: "a", nowTicks: grid + 51_000_000)
                == .allowed(remaining: 1, resetTicks: grid + 100_000_000))
        #expect(
            await limiter.admit(client: "a", nowTicks: grid + 52_000_000)
                == .allowed(remaining: 0, resetTicks: grid + 100_000_000))
        #expect(await limiter.admit(client: "a", nowTicks: grid + 53_000_000) == .refused(retryAfterSeconds: 5))
        // Five seconds after the first request, the count restarts mid-grid.
        #expect(
            await limiter.admit(client: "a", nowTicks: first + 50_000_000)
                == .allowed(remaining: 2, resetTicks: grid + 100_000_000))
    }

    /// Noise spreads the reported end of one window's answers, within the bound and around the end.
    @Test func resetNoiseSpreadsTheReportedEnd() async {
        let limiter = FixedWindowRateLimiter(limit: 1_000, windowSeconds: 5, resetNoiseTicks: 50 * 10_000, seed: 3)
        let grid: Int64 = 1_800_000_000 * 10_000_000
        var ends: Set<Int64> = []
        for index in 0..<200 {
            guard case .allowed(_, let reset) = await limiter.admit(client: "a", nowTicks: grid + Int64(index) * 10_000)
            else {
                Issue.record("refused")
                return
            }
            ends.insert(reset)
        }
        #expect(ends.count > 50)
        #expect(ends.allSatisfy { abs($0 - (grid + 50_000_000)) <= 25 * 10_000 })
        #expect(ends.contains { $0 < grid + 50_000_000 } && ends.contains { $0 > grid + 50_000_000 })
    }

    @Test func faultDrawsAreReproducibleWithASeed() async {
        let settings = FaultSettings(
            rules: [FaultRule(fault: .http500, probability: 0.3), FaultRule(fault: .reset, probability: 0.3)],
            jitterMilliseconds: 50)
        func draws(seed: UInt64) async -> [FaultInjector.Plan] {
            let injector = FaultInjector(settings: settings, seed: seed)
            var plans: [FaultInjector.Plan] = []
            for _ in 0..<200 { plans.append(await injector.plan(method: "POST", path: "/v3/licenses")) }
            return plans
        }
        let first = await draws(seed: 7)
        #expect(first == (await draws(seed: 7)))
        #expect(first != (await draws(seed: 8)))
        let faulted = first.filter { $0.fault != nil }.count
        #expect(faulted > 60 && faulted < 140, "about half of 200 should fault, got \(faulted)")
        #expect(first.allSatisfy { (0...50).contains($0.delayMilliseconds) })
    }

    @Test func countRulesFireForTheNextNMatchingRequestsOnly() async {
        let injector = FaultInjector(
            settings: FaultSettings(rules: [FaultRule(fault: .lostResponse, count: 2, path: "/v3/users")]), seed: 1)
        #expect(await injector.plan(method: "POST", path: "/v3/licenses").fault == nil)
        #expect(await injector.plan(method: "POST", path: "/v3/users").fault == .lostResponse)
        #expect(await injector.plan(method: "GET", path: "/v3/users").fault == .lostResponse)
        #expect(await injector.plan(method: "POST", path: "/v3/users").fault == nil)
        #expect(await injector.current().rules.isEmpty)
    }

    /// A hold lets `after` matching requests through, holds the rest while the settings stand, and
    /// is lifted by new settings; other routes pass. (Held requests are dropped unprocessed: the
    /// run tests in EndToEndTests stop a run at a hold.)
    @Test func aHoldLetsTheFirstRequestsThroughAndHoldsTheRestUntilTheSettingsChange() async throws {
        let settings = try JSONDecoder().decode(
            FaultSettings.self, from: Data(#"{"hold":{"after":2,"method":"POST","path":"/v3/licenses"}}"#.utf8))
        #expect(settings.hold == FaultHold(after: 2, seconds: 60, method: "POST", path: "/v3/licenses"))
        let injector = FaultInjector(settings: settings, seed: 1)
        #expect(await injector.plan(method: "POST", path: "/v3/licenses").hold == nil)
        #expect(await injector.plan(method: "GET", path: "/v3/licenses").hold == nil)
        #expect(await injector.plan(method: "POST", path: "/v3/licenses").hold == nil)
        let held = try #require(await injector.plan(method: "POST", path: "/v3/licenses").hold)
        #expect(held.seconds == 60)
        #expect(await injector.isHolding(held.generation))
        await injector.replace(with: FaultSettings())
        #expect(await !injector.isHolding(held.generation))
        #expect(await injector.plan(method: "POST", path: "/v3/licenses").hold == nil)
        #expect(
            FaultSettings(hold: FaultHold(after: 1, seconds: 0)).problem()
                == "hold.seconds must be from 1 to 600, not 0")
    }

    @Test func timestampsRoundTripWithSevenDigits() {
        let ticks = RFC3339.parse("2018-05-06T08:49:17.9361143Z")
        #expect(ticks.map(RFC3339.format) == "2018-05-06T08:49:17.9361143Z")
        #expect(RFC3339.parse("2018-05-06T10:49:17.9361143+02:00") == ticks)
        #expect(RFC3339.parse("2019-02-29T00:00:00Z") == nil)
        #expect(RFC3339.parse("2024-02-29T00:00:00Z") != nil)
        #expect(RFC3339.parse("2024-01-01") == nil)
    }
}

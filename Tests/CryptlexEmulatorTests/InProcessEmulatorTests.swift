import Foundation
import Synchronization
import Testing

@testable import CryptlexEmulator

@Suite("The emulator in process")
struct InProcessEmulatorTests {
    static let auth = [("Authorization", "Bearer t"), ("Content-Type", "application/json")]

    /// The same gate and routes as over HTTP: a create is checked against the schema and made,
    /// an unknown route is 404, a wrong token 401, and every reply carries the server's `Date`
    /// from the emulator's clock (which the client reads as the server's time).
    @Test func theRoutesAndTheGateAreTheServers() async throws {
        let clockNanoseconds = Mutex<Int64>(1_765_000_000_000_000_000)  // 2025-12-06T05:46:40Z
        let emulator = try CryptlexEmulator(
            configuration: .init(token: "t", products: ["p"], rateLimit: nil),
            clock: EmulatorClock(nanosecondsSince1970: { clockNanoseconds.withLock { $0 } }))
        let server = InProcessEmulator(emulator)
        let created = try #require(
            await server.respond(
                method: "POST", target: "/v3/licenses", headers: Self.auth, body: Array(#"{"productId":"p"}"#.utf8)))
        #expect(created.status == 201)
        let license = try #require(try JSONSerialization.jsonObject(with: Data(created.body)) as? [String: Any])
        #expect(license["createdAt"] as? String == "2025-12-06T05:46:40.0000000Z")
        #expect(
            created.headers.first { $0.0.lowercased() == "date" }?.1 == "Sat, 06 Dec 2025 05:46:40 GMT")
        let refused = try #require(
            await server.respond(
                method: "POST", target: "/v3/licenses", headers: Self.auth, body: Array(#"{"productId":7}"#.utf8)))
        #expect(refused.status == 400)
        let unknown = try #require(await server.respond(method: "GET", target: "/v3/nothing", headers: Self.auth))
        #expect(unknown.status == 404)
        let anonymous = try #require(await server.respond(method: "GET", target: "/v3/licenses", headers: []))
        #expect(anonymous.status == 401)
        #expect(await emulator.store.allLicenses().count == 1)
    }

    /// A lost response is processed and then no reply at all (nil), as a reset socket; a reset
    /// before processing makes nothing.
    @Test func aLostResponseIsProcessedAndUnanswered() async throws {
        let emulator = try CryptlexEmulator(
            configuration: .init(
                token: "t", products: ["p"], rateLimit: nil,
                faults: FaultSettings(rules: [
                    FaultRule(fault: .reset, count: 1), FaultRule(fault: .lostResponse, count: 1),
                ])))
        let server = InProcessEmulator(emulator)
        let body = Array(#"{"productId":"p"}"#.utf8)
        let reset = await server.respond(method: "POST", target: "/v3/licenses", headers: Self.auth, body: body)
        #expect(reset == nil)
        #expect(await emulator.store.allLicenses().isEmpty)
        let lost = await server.respond(method: "POST", target: "/v3/licenses", headers: Self.auth, body: body)
        #expect(lost == nil)
        #expect(await emulator.store.allLicenses().count == 1)
        let answered = await server.respond(method: "POST", target: "/v3/licenses", headers: Self.auth, body: body)
        #expect(answered?.status == 201)
    }

    /// The rate limit counts in-process requests by their client address, on the emulator's clock.
    @Test func theRateLimitCountsOnTheEmulatorsClock() async throws {
        let clockNanoseconds = Mutex<Int64>(1_765_000_000_000_000_000)
        let emulator = try CryptlexEmulator(
            configuration: .init(token: "t", products: ["p"], rateLimit: 2),
            clock: EmulatorClock(nanosecondsSince1970: { clockNanoseconds.withLock { $0 } }))
        let server = InProcessEmulator(emulator)
        var statuses: [Int] = []
        for _ in 0..<3 {
            statuses.append(
                await server.respond(method: "GET", target: "/v3/products/p", headers: Self.auth)?.status ?? 0)
        }
        #expect(statuses == [200, 200, 429])
        let other = await server.respond(
            method: "GET", target: "/v3/products/p", headers: Self.auth, clientIP: "10.0.0.2")
        #expect(other?.status == 200)
        clockNanoseconds.withLock { $0 += 5_000_000_000 }
        #expect(await server.respond(method: "GET", target: "/v3/products/p", headers: Self.auth)?.status == 200)
    }
}

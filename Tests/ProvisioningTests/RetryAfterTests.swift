import CryptlexEmulator
import EmulatorTransport
import Foundation
import Scheduling
import TestSupport
import Testing

@testable import Provisioning

/// A server's `Retry-After` is when it said to come back: the run sends nothing sooner.
@Suite("Retry-After", .timeLimit(.minutes(1)))
struct RetryAfterTests {
    /// A 503 with `Retry-After` to the preflight proves the server is there, but says it cannot
    /// serve yet: the run waits it out before its first license (it went on at once; found by the
    /// simulation). On a manual clock: nothing is sent while the clock stands still.
    @Test func aPreflightAnswered503WaitsItsRetryAfterBeforeTheRunGoesOn() async throws {
        let emulator = EmulatorConfiguration(
            token: "test-token", products: ["prod-1"], rateLimit: nil,
            faults: FaultSettings(rules: [FaultRule(fault: .http503, count: 1, method: "GET")], retryAfterSeconds: 7))
        try await withRunBench(emulator) { bench in
            try bench.write(ordersHeader + orders(1))
            let clock = ManualClock()
            let configuration = bench.configuration(idColumn: "order_id") { $0.clock = RunClock(clock) }
            let run = Task { try await bench.run(configuration) }
            // The run waits on the clock — or, not waiting, ends at once.
            let first = First<Bool>()
            let waited = await withCheckedContinuation { continuation in
                first.wait(continuation)
                Task {
                    await clock.waitForSleepers(1)
                    first.settle(true)
                }
                Task {
                    _ = try? await run.value
                    first.settle(false)
                }
            }
            #expect(waited, "the run went on without waiting")
            guard waited else { return }
            #expect(await bench.counters.requests == 1, "only the preflight, answered 503")
            clock.advance(by: .seconds(6))
            await clock.waitForSleepers(1)
            #expect(await bench.counters.requests == 1, "nothing before the 7 s have passed")
            clock.advance(by: .seconds(1))
            let report = try await run.value
            #expect(report.counts.created == 1)
            #expect(await bench.counters.requests == 3)
        }
    }
}

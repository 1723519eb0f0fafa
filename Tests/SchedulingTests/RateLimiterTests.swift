import Foundation
import TestSupport
import Testing

@testable import Scheduling

@Suite("Token bucket and rate limiter")
struct RateLimiterTests {
    @Test func slotsFollowTheRateAfterTheBurst() {
        var bucket = TokenBucket(rate: 10, burst: 3)
        let slots = (0..<6).map { _ in bucket.reserve(now: .zero) }
        #expect(slots == [.zero, .zero, .zero, .milliseconds(100), .milliseconds(200), .milliseconds(300)])
        // After a quiet second the burst is available again.
        #expect(bucket.reserve(now: .seconds(2)) == .seconds(2))
        #expect(bucket.reserve(now: .seconds(2)) == .seconds(2))
    }

    /// Cryptlex counts 50 requests per fixed 5 s window. Requests sent as fast as the default
    /// bucket allows, with up to 100 ms of arrival jitter, never put 50 into one window — for any
    /// alignment of the server's windows.
    @Test(arguments: [0, 1, 7, 250, 3_333, 4_999])
    func theDefaultBucketNeverFillsAFixedFiftyPerFiveSecondWindow(windowOffsetMilliseconds: Int) {
        var bucket = TokenBucket(rate: 9.6, burst: 1)
        var generator = SystemRandomNumberGenerator()
        var arrivals: [Duration] = []
        for _ in 0..<1_000 {
            let sent = bucket.reserve(now: .zero)
            arrivals.append(sent + .milliseconds(Int.random(in: 0...100, using: &generator)))
        }
        var perWindow: [Int64: Int] = [:]
        for arrival in arrivals {
            let shifted = arrival + .milliseconds(windowOffsetMilliseconds)
            perWindow[shifted.components.seconds / 5, default: 0] += 1
        }
        #expect(perWindow.values.max()! < 50)
        // And the pace is 95 % of the ceiling or better: 1,000 requests within 105 s.
        #expect(arrivals.max()! < .seconds(105))
    }

    @Test func waitersGoOneByOneAtTheRate() async throws {
        let clock = ManualClock()
        let limiter = RateLimiter(rate: 10, burst: 1, clock: clock)
        let sent = SentLog()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<3 {
                group.addTask {
                    _ = try await limiter.acquire()
                    await sent.record(index, at: clock.now.offset)
                }
            }
            await clock.waitForSleepers(2)  // the first goes at once; two wait
            #expect(await sent.count == 1)
            clock.advance(by: .milliseconds(100))
            await sent.waitFor(2)
            clock.advance(by: .milliseconds(100))
            try await group.waitForAll()
        }
        #expect(await sent.times == [.zero, .milliseconds(100), .milliseconds(200)])
    }

    @Test func aPauseHoldsEveryoneIncludingThoseAlreadyWaiting() async throws {
        let clock = ManualClock()
        let limiter = RateLimiter(rate: 10, burst: 1, clock: clock)
        let sent = SentLog()
        _ = try await limiter.acquire()  // uses the first slot
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                _ = try await limiter.acquire()
                await sent.record(1, at: clock.now.offset)
            }
            await clock.waitForSleepers(1)  // waiting for its slot at 100 ms
            await limiter.pause(for: .seconds(2))  // a 429 with Retry-After: 2
            clock.advance(by: .milliseconds(100))  // its old slot comes: it must wait on
            await clock.waitForSleepers(1)
            #expect(await sent.count == 0)
            #expect(await limiter.isPaused)
            clock.advance(by: .milliseconds(1_900))
            try await group.waitForAll()
        }
        #expect(await sent.times == [.seconds(2)])
    }

    @Test func fewRequestsLeftInTheServersWindowWaitsForItsReset() async throws {
        let clock = ManualClock()
        let limiter = RateLimiter(
            rate: 1_000, burst: 1, lowWater: 2, clock: clock, wallClock: { 1_000 + clock.now.offset.secondsValue })
        let end = Date(timeIntervalSince1970: 1_003)
        await limiter.answered(nil, WindowReport(answered: true, remaining: 10, windowEnd: end))
        #expect(await !limiter.isPaused)
        await limiter.answered(nil, WindowReport(answered: true, remaining: 2, windowEnd: end))
        #expect(await limiter.isPaused)
        clock.advance(by: .seconds(3))
        #expect(await !limiter.isPaused)
    }

    /// Following the server's windows (2 per window here): a full window holds the next request
    /// until the clock says the window ended; then one probe goes, and its answer from the new
    /// window releases the request waiting behind it at once, without a timer.
    @Test func aTestsAnswerFromTheNewWindowReleasesTheWaiters() async throws {
        let clock = ManualClock()
        let limiter = RateLimiter(
            rate: 1_000, burst: 1, windowLimit: 3, clock: clock,
            wallClock: { 1_000 + clock.now.offset.secondsValue })
        let first = try await limiter.acquire()  // the fixed rate, until an answer shows the window
        await limiter.answered(
            first,
            WindowReport(
                answered: true, remaining: 2, windowEnd: Date(timeIntervalSince1970: 1_002), window: .seconds(5)))
        #expect(await limiter.followsServerWindows)
        let second = try await limiter.acquire()
        await limiter.answered(
            second,
            WindowReport(
                answered: true, remaining: 1, windowEnd: Date(timeIntervalSince1970: 1_002), window: .seconds(5)))
        let sent = SentLog()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                // The last place of the window is kept for the test of its end.
                let test = try await limiter.acquire()
                await sent.record(3, at: clock.now.offset)
                await limiter.answered(
                    test,
                    WindowReport(
                        answered: true, remaining: 2, windowEnd: Date(timeIntervalSince1970: 1_007), window: .seconds(5)
                    ))
            }
            await clock.waitForSleepers(1)  // until the clock reads 1002.1
            clock.advance(by: .milliseconds(2_100))
            try await group.waitForAll()
        }
        // The test came back counted 1 in the next window: this one goes at once.
        _ = try await limiter.acquire()
        await sent.record(4, at: clock.now.offset)
        #expect(await sent.times == [.milliseconds(2_100), .milliseconds(2_100)])
    }

    /// A request waiting on a full window is woken by an answer, not only by its timer.
    @Test func anAnswerWakesARequestWaitingOnAFullWindow() async throws {
        let clock = ManualClock()
        let limiter = RateLimiter(
            rate: 1_000, burst: 1, windowLimit: 3, clock: clock,
            wallClock: { 1_000 + clock.now.offset.secondsValue })
        let report = { (remaining: Int, end: Double) in
            WindowReport(
                answered: true, remaining: remaining, windowEnd: Date(timeIntervalSince1970: end), window: .seconds(5))
        }
        let first = try await limiter.acquire()
        await limiter.answered(first, report(2, 1_002))
        let second = try await limiter.acquire()
        await limiter.answered(second, report(1, 1_002))
        let testTask = Task { try await limiter.acquire() }
        await clock.waitForSleepers(1)
        clock.advance(by: .milliseconds(2_100))
        let test = try await testTask.value
        // The test is in flight: the next request waits for its answer.
        let sent = SentLog()
        let waiting = Task {
            _ = try await limiter.acquire()
            await sent.record(4, at: clock.now.offset)
        }
        await clock.waitForSleepers(1)
        #expect(await sent.count == 0)
        await limiter.answered(test, report(2, 1_007))  // from the new window: the old one is over
        try await waiting.value
        #expect(await sent.times == [.milliseconds(2_100)])
    }

    @Test func aWaitingAcquireCanBeCancelled() async throws {
        let clock = ManualClock()
        let limiter = RateLimiter(rate: 1, burst: 1, clock: clock)
        _ = try await limiter.acquire()
        let waiting = Task { try await limiter.acquire() }
        await clock.waitForSleepers(1)
        waiting.cancel()
        await #expect(throws: CancellationError.self) { try await waiting.value }
        #expect(clock.sleeperCount == 0)
    }
}

actor SentLog {
    private(set) var times: [Duration] = []
    var count: Int { times.count }
    func record(_ index: Int, at time: Duration) { times.append(time) }
    func waitFor(_ count: Int) async { while times.count < count { await Task.yield() } }
}

@Suite("Throttle budget")
struct ThrottleBudgetTests {
    @Test func consecutiveRefusalsSpendItAndAnyAnswerRefillsIt() {
        let clock = ManualClock()
        let budget = ThrottleBudget(maxConsecutive: 3, stallTimeout: .seconds(600), clock: clock)
        #expect(budget.refused() == nil)
        #expect(budget.refused() == nil)
        budget.answered()
        #expect(budget.refused() == nil)
        #expect(budget.refused() == nil)
        let reason = budget.refused()
        #expect(reason?.contains("3 answers in a row were 429") == true)
    }

    @Test func minutesOfNothingButRefusalsSpendIt() {
        let clock = ManualClock()
        let budget = ThrottleBudget(maxConsecutive: 1_000, stallTimeout: .seconds(60), clock: clock)
        clock.advance(by: .seconds(59))
        #expect(budget.refused() == nil)
        budget.answered()
        clock.advance(by: .seconds(59))
        #expect(budget.refused() == nil)
        clock.advance(by: .seconds(2))
        #expect(budget.refused()?.contains("for 61 s") == true)
    }
}

@Suite("Silence budget")
struct SilenceBudgetTests {
    @Test func requestsUnansweredForTheTimeoutSpendItAndAnyAnswerResetsIt() {
        let clock = ManualClock()
        let budget = SilenceBudget(timeout: .seconds(60), clock: clock)
        clock.advance(by: .seconds(300))  // quiet time before the first failure does not count
        #expect(budget.unanswered("refused") == nil)
        clock.advance(by: .seconds(59))
        #expect(budget.unanswered("refused") == nil)
        budget.answered()
        clock.advance(by: .seconds(30))
        #expect(budget.unanswered("refused") == nil)  // the clock starts again here
        clock.advance(by: .seconds(59))
        #expect(budget.unanswered("refused") == nil)
        clock.advance(by: .seconds(1))
        #expect(budget.unanswered("could not connect") == "the API has not answered for 60 s (last: could not connect)")
    }

    /// A refused connection can take the connect timeout to fail: the silence began when it was
    /// sent — or at the last answer, if another request's came later.
    @Test func silenceCountsFromTheSendNotTheFailure() {
        let clock = ManualClock()
        let budget = SilenceBudget(timeout: .seconds(60), clock: clock)
        let sent = clock.now
        clock.advance(by: .seconds(5))
        #expect(budget.unanswered("refused", sentAt: sent) == nil)
        #expect(budget.timeLeft() == .seconds(55))
        budget.answered()  // at 5 s
        clock.advance(by: .seconds(1))
        #expect(budget.unanswered("refused", sentAt: sent) == nil)  // sent before that answer
        #expect(budget.timeLeft() == .seconds(59))
        // One request that took the whole timeout to fail is enough on its own.
        budget.answered()
        let slow = clock.now
        clock.advance(by: .seconds(61))
        #expect(budget.unanswered("timed out", sentAt: slow)?.contains("for 61 s") == true)
    }

    @Test func timeLeftBoundsABackoffWhileSilent() {
        let clock = ManualClock()
        let budget = SilenceBudget(timeout: .seconds(60), clock: clock)
        #expect(budget.timeLeft() == nil)
        _ = budget.unanswered("refused")
        clock.advance(by: .seconds(45))
        #expect(budget.timeLeft() == .seconds(15))
        clock.advance(by: .seconds(30))
        #expect(budget.timeLeft() == .zero)
        budget.answered()
        #expect(budget.timeLeft() == nil)
    }

    @Test func zeroNeverSpendsIt() {
        let clock = ManualClock()
        let budget = SilenceBudget(timeout: .zero, clock: clock)
        #expect(budget.unanswered("x") == nil)
        clock.advance(by: .seconds(86_400))
        #expect(budget.unanswered("x") == nil)
    }
}

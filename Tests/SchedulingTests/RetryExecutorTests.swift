import Synchronization
import TestSupport
import Testing

@testable import Scheduling

/// The one retry loop, on a manual clock: what each outcome class makes it do.
@Suite("Retry executor")
struct RetryExecutorTests {
    struct Failure: Error, Equatable, CustomStringConvertible {
        var outcome: OutcomeClass
        var description: String { "failure \(outcome)" }
    }

    /// Answers with the scripted results in order, and counts the sends.
    final class Script: Sendable {
        private let results: Mutex<[Result<Int, Failure>]>
        let sends = Atomic<Int>(0)
        init(_ results: [Result<Int, Failure>]) { self.results = Mutex(results) }
        func next() -> Result<Int, Failure> {
            sends.add(1, ordering: .relaxed)
            return results.withLock { $0.isEmpty ? .success(0) : $0.removeFirst() }
        }
    }

    func executor(
        maxAttempts: Int = 4, max429s: Int = 100, base: Duration = .zero,
        clock: ManualClock = ManualClock(), stop: StopSignal = StopSignal()
    ) -> RetryExecutor<ManualClock> {
        RetryExecutor(
            policy: RetryPolicy(base: base, cap: .seconds(10), maxAttempts: maxAttempts),
            limiter: RateLimiter(rate: 1_000, burst: 1_000, clock: clock),
            budget: ThrottleBudget(maxConsecutive: max429s, stallTimeout: .seconds(600), clock: clock),
            stop: stop, clock: clock)
    }

    /// The `isRetry` of each send.
    final class Sends: Sendable {
        let flags = Mutex<[Bool]>([])
    }

    func run(
        _ executor: RetryExecutor<ManualClock>, _ script: Script, failedBefore: Int = 0,
        retries: Sends = Sends()
    ) async -> RetryExecutor<ManualClock>.Ending<Int, Failure> {
        await executor.run(
            failedBefore: failedBefore, classify: \.outcome,
            beforeSend: { (isRetry: Bool) async throws(Never) in retries.flags.withLock { $0.append(isRetry) } },
            send: { script.next() },
            report: { _ in .none },
            afterAnswer: { (_: Result<Int, Failure>) async throws(Never) in },
            onRetry: { (_: Failure) async throws(Never) in })
    }

    @Test func retryableFailuresAreSentAgainUntilTheyAnswer() async {
        let script = Script([
            .failure(Failure(outcome: .retryable(after: nil))), .failure(Failure(outcome: .retryable(after: nil))),
            .success(7),
        ])
        let retries = Sends()
        let ending = await run(executor(), script, retries: retries)
        guard case .answered(7) = ending else {
            Issue.record("\(ending)")
            return
        }
        #expect(retries.flags.withLock { $0 } == [false, true, true])
    }

    @Test func attemptsRunOutAndCountEarlierCalls() async {
        let script = Script(Array(repeating: .failure(Failure(outcome: .retryable(after: nil))), count: 10))
        let ending = await run(executor(maxAttempts: 4), script, failedBefore: 1)
        guard case .failed(_, .retryable, let failed) = ending else {
            Issue.record("\(ending)")
            return
        }
        #expect(failed == 4)
        #expect(script.sends.load(ordering: .relaxed) == 3)
    }

    @Test func theBackoffWaitsOnTheClock() async {
        let clock = ManualClock()
        let script = Script([.failure(Failure(outcome: .retryable(after: .seconds(3)))), .success(1)])
        let task = Task { await run(executor(base: .milliseconds(1), clock: clock), script) }
        await clock.waitForSleepers(1)
        #expect(script.sends.load(ordering: .relaxed) == 1)
        clock.advance(by: .seconds(2))
        #expect(script.sends.load(ordering: .relaxed) == 1, "Retry-After is a floor")
        clock.advance(by: .seconds(1))
        guard case .answered(1) = await task.value else {
            Issue.record("no answer")
            return
        }
        #expect(script.sends.load(ordering: .relaxed) == 2)
    }

    @Test func ambiguousAndPermanentFailuresGoBackToTheCallerAtOnce() async {
        for outcome in [OutcomeClass.ambiguous, .permanent] {
            let script = Script([.failure(Failure(outcome: outcome))])
            let ending = await run(executor(), script, failedBefore: 2)
            guard case .failed(_, outcome, 3) = ending else {
                Issue.record("\(outcome): \(ending)")
                continue
            }
            #expect(script.sends.load(ordering: .relaxed) == 1)
        }
    }

    @Test func throttlingIsNotAnAttemptAndItsBudgetStopsTheRun() async {
        let stop = StopSignal()
        let script = Script(Array(repeating: .failure(Failure(outcome: .throttled(after: .zero))), count: 10))
        let ending = await run(executor(maxAttempts: 2, max429s: 5, stop: stop), script)
        guard case .failed(_, .throttled, 0) = ending else {
            Issue.record("\(ending)")
            return
        }
        #expect(script.sends.load(ordering: .relaxed) == 5, "more sends than attempts: a 429 is not an attempt")
        guard case .rateLimited(let reason)? = stop.reason else {
            Issue.record("\(String(describing: stop.reason))")
            return
        }
        #expect(reason.contains("5 answers in a row"))
    }

    @Test func aThrottledAnswerPausesEveryWorkerThroughTheSharedLimiter() async {
        let clock = ManualClock()
        let executor = executor(clock: clock)
        let script = Script([.failure(Failure(outcome: .throttled(after: .seconds(4)))), .success(3)])
        let task = Task { await run(executor, script) }
        await clock.waitForSleepers(1)
        #expect(await executor.limiter?.isPaused == true)
        clock.advance(by: .seconds(4))
        guard case .answered(3) = await task.value else {
            Issue.record("no answer")
            return
        }
        #expect(script.sends.load(ordering: .relaxed) == 2)
    }

    /// A 503's `Retry-After` is the server saying when to come back, as a 429's is: every worker
    /// waits it out, even when the request that got it has no attempt left (found by the
    /// simulation: a run sent its next request into a 503's pause at once).
    @Test func aRetryAfterOnA503PausesEveryWorkerToo() async {
        let clock = ManualClock()
        let executor = executor(clock: clock)
        let script = Script([.failure(Failure(outcome: .retryable(after: .seconds(4)))), .success(3)])
        let task = Task { await run(executor, script) }
        await clock.waitForSleepers(1)
        #expect(await executor.limiter?.isPaused == true)
        #expect(script.sends.load(ordering: .relaxed) == 1)
        clock.advance(by: .seconds(4))
        guard case .answered(3) = await task.value else {
            Issue.record("no answer")
            return
        }
        // Its last attempt used up: the call fails, and the pause holds the others all the same.
        let last = self.executor(maxAttempts: 1, clock: clock)
        let failing = Script([.failure(Failure(outcome: .retryable(after: .seconds(4))))])
        guard case .failed(_, .retryable, failedAttempts: 1) = await run(last, failing) else {
            Issue.record("not failed")
            return
        }
        #expect(await last.limiter?.isPaused == true)
        // Without a Retry-After, a retryable failure pauses no one.
        let plain = self.executor(clock: clock)
        let task2 = Task {
            await run(plain, Script([.failure(Failure(outcome: .retryable(after: nil))), .success(1)]))
        }
        guard case .answered(1) = await task2.value else {
            Issue.record("no answer")
            return
        }
        #expect(await plain.limiter?.isPaused == false)
    }

    @Test func withoutASharedLimiterAThrottledRequestWaitsItsRetryAfterAlone() async {
        let clock = ManualClock()
        let executor = RetryExecutor(
            policy: RetryPolicy(), limiter: nil,
            budget: ThrottleBudget(maxConsecutive: 100, stallTimeout: .seconds(600), clock: clock),
            stop: StopSignal(), clock: clock)
        let script = Script([.failure(Failure(outcome: .throttled(after: .seconds(2)))), .success(5)])
        let task = Task { await run(executor, script) }
        await clock.waitForSleepers(1)
        #expect(script.sends.load(ordering: .relaxed) == 1, "not sent again before Retry-After")
        clock.advance(by: .seconds(2))
        guard case .answered(5) = await task.value else {
            Issue.record("no answer")
            return
        }
    }

    @Test func aRefusedTokenStopsTheRun() async {
        let stop = StopSignal()
        let ending = await run(executor(stop: stop), Script([.failure(Failure(outcome: .stopRun))]))
        guard case .failed(_, .stopRun, _) = ending else {
            Issue.record("\(ending)")
            return
        }
        #expect(stop.reason == .accessDenied("failure stopRun"))
        // After it nothing is sent, not even a first attempt (a lookup another task was about to make).
        await expectNothingSent(stop)
    }

    /// A call on an executor with `stop` sends nothing and ends `.notSent`.
    func expectNothingSent(_ stop: StopSignal) async {
        let next = Script([.success(1)])
        let ending = await run(executor(stop: stop), next)
        guard case .notSent = ending else {
            Issue.record("a request was sent after the token was refused: \(ending)")
            return
        }
        #expect(next.sends.load(ordering: .relaxed) == 0)
    }

    /// A Ctrl-C came first; a refused token after it still stops every send (the reason stays the first).
    @Test func aTokenRefusedAfterAnotherStopStillStopsEverySend() async {
        let stop = StopSignal()
        stop.request(.interrupted)
        _ = await run(executor(stop: stop), Script([.failure(Failure(outcome: .stopRun))]))
        #expect(stop.reason == .interrupted)
        #expect(stop.tokenRefused)
        await expectNothingSent(stop)
    }

    @Test func aStopBeforeASecondSendEndsWithNotSent() async {
        let stop = StopSignal()
        stop.request(.interrupted)
        let script = Script([.failure(Failure(outcome: .retryable(after: nil))), .success(1)])
        let ending = await run(executor(stop: stop), script)
        guard case .notSent = ending else {
            Issue.record("\(ending)")
            return
        }
        #expect(script.sends.load(ordering: .relaxed) == 1, "the first send goes; the retry does not")
    }

    /// Runs one call through an executor with a 60-s silence budget (no limiter) whose sends all
    /// fail retryably, each taking `sendTakes` of the manual clock, with an HTTP answer or without.
    func runAgainstSilence(
        _ policy: RetryPolicy, clock: ManualClock, stop: StopSignal, script: Script,
        sendTakes: Duration = .zero, answered: Bool = false
    ) async -> RetryExecutor<ManualClock>.Ending<Int, Failure> {
        let executor = RetryExecutor(
            policy: policy, limiter: nil,
            budget: ThrottleBudget(maxConsecutive: 100, stallTimeout: .seconds(600), clock: clock),
            silence: SilenceBudget(timeout: .seconds(60), clock: clock),
            stop: stop, clock: clock)
        return await executor.run(
            classify: \.outcome,
            beforeSend: { (_: Bool) async throws(Never) in },
            send: { () async -> Result<Int, Failure> in
                clock.advance(by: sendTakes)
                return script.next()
            },
            report: { _ in answered ? WindowReport(answered: true) : .none },
            afterAnswer: { (_: Result<Int, Failure>) async throws(Never) in },
            onRetry: { (_: Failure) async throws(Never) in })
    }

    static func failures(_ count: Int = 1_000) -> [Result<Int, Failure>] {
        Array(repeating: .failure(Failure(outcome: .retryable(after: nil))), count: count)
    }

    /// The API went away: failures without an answer spend the silence budget, the run stops
    /// (`unreachable`), and a retryable call ends not sent instead of using up its attempts.
    @Test func unansweredRequestsPastTheSilenceBudgetStopTheRun() async {
        let clock = ManualClock()
        let stop = StopSignal()
        let script = Script(Self.failures())
        // Each send takes 10 s and gets no answer.
        let ending = await runAgainstSilence(
            RetryPolicy(base: .zero, cap: .zero, maxAttempts: 1_000), clock: clock, stop: stop,
            script: script, sendTakes: .seconds(10))
        guard case .notSent = ending else {
            Issue.record("\(ending)")
            return
        }
        // Silent from the first send (0 s) to the failure 60 s later: 6 sends.
        #expect(script.sends.load(ordering: .relaxed) == 6)
        guard case .unreachable(let reason) = stop.reason else {
            Issue.record("\(String(describing: stop.reason))")
            return
        }
        #expect(reason.contains("has not answered for 60 s"))
    }

    /// A backoff longer than the silence budget has left is cut to it: the stop comes when due.
    @Test func aBackoffEndsWhenTheSilenceBudgetDoes() async {
        let clock = ManualClock()
        let stop = StopSignal()
        let script = Script(Self.failures())
        let task = Task {
            await runAgainstSilence(
                RetryPolicy(base: .seconds(1_000), cap: .seconds(1_000), maxAttempts: 100), clock: clock, stop: stop,
                script: script)
        }
        while clock.sleeperCount == 0 { await Task.yield() }
        clock.advance(by: .seconds(60))
        let ending = await task.value
        guard case .notSent = ending else {
            Issue.record("\(ending)")
            return
        }
        #expect(script.sends.load(ordering: .relaxed) == 2)
        guard case .unreachable = stop.reason else {
            Issue.record("\(String(describing: stop.reason))")
            return
        }
    }

    /// An answer — even an error status — is not silence.
    @Test func answeredFailuresDoNotSpendTheSilenceBudget() async {
        let stop = StopSignal()
        let ending = await runAgainstSilence(
            RetryPolicy(base: .zero, cap: .zero, maxAttempts: 20), clock: ManualClock(), stop: stop,
            script: Script(Self.failures()), sendTakes: .seconds(10), answered: true)
        guard case .failed(_, .retryable, 20) = ending else {
            Issue.record("\(ending)")
            return
        }
        #expect(stop.reason == nil)
    }

    /// A stop wakes a worker sleeping in its backoff: it ends not sent at once, not when the
    /// backoff would have ended (the manual clock never moves here).
    @Test func aStopWakesAWorkerInItsBackoff() async {
        let clock = ManualClock()
        let stop = StopSignal()
        let executor = executor(base: .seconds(30), clock: clock, stop: stop)
        let script = Script(Array(repeating: .failure(Failure(outcome: .retryable(after: .seconds(30)))), count: 10))
        let task = Task { await run(executor, script) }
        while clock.sleeperCount == 0 { await Task.yield() }
        stop.request(.interrupted)
        let ending = await task.value
        guard case .notSent = ending else {
            Issue.record("\(ending)")
            return
        }
        #expect(script.sends.load(ordering: .relaxed) == 1)
        #expect(clock.now.offset == .zero)
    }
}

@Suite("Stop signal")
struct StopSignalTests {
    @Test func waitReturnsAtTheStopOrAtOnceAfterIt() async {
        let stop = StopSignal()
        let waiting = Task {
            await stop.wait()
            return stop.reason
        }
        await Task.yield()
        #expect(stop.request(.interrupted))
        #expect(await waiting.value == .interrupted)
        await stop.wait()  // already stopped: returns at once
        #expect(!stop.request(.rateLimited("later")))  // the first reason stays
        #expect(stop.reason == .interrupted)
    }

    @Test func aCancelledWaitReturnsWithoutAStop() async {
        let stop = StopSignal()
        let waiting = Task {
            await stop.wait()
            return stop.isRequested
        }
        waiting.cancel()
        #expect(await waiting.value == false)
        // Many waits cancelled at every moment: none is left behind, none hangs.
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<200 {
                let task = Task { await stop.wait() }
                group.addTask {
                    task.cancel()
                    await task.value
                }
            }
        }
        #expect(!stop.isRequested)
    }
}

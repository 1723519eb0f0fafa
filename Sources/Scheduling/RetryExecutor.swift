/// The one retry loop of licprov: every request it sends — license creates, lookups, user
/// lookups and creates, the preflight — goes through ``run(failedBefore:classify:beforeSend:send:afterAnswer:onRetry:)``,
/// which sends it under the run's rate limit until it has an outcome the caller must act on,
/// obeying the ``OutcomeClass`` the API module gave the failure:
///
/// | Class | What the executor does |
/// |---|---|
/// | success | `.answered` |
/// | throttled (429) | the ``ThrottleBudget`` draws one (spent: the run stops with ``StopSignal/Reason/rateLimited(_:)`` and the call ends `.failed`); every worker pauses for `Retry-After` (the shared ``RateLimiter``; without one, this request waits alone); not an attempt; sends again |
/// | retryable | backs off with the ``RetryPolicy`` (full jitter, `Retry-After` a floor) and sends again; attempts used up: `.failed`. A `Retry-After` (a 503's) also pauses every worker through the shared ``RateLimiter``, as a 429's does: the server said when to come back |
/// | ambiguous | `.failed` at once: only the caller can find out whether it took effect |
/// | permanent | `.failed` |
/// | stopRun | the run stops (``StopSignal/Reason/accessDenied(_:)`` with the failure's description); `.failed`; nothing is sent after it (``StopSignal/tokenRefused``) |
///
/// Any failure without an HTTP answer also draws on the ``SilenceBudget`` (when there is one): spent,
/// the run stops with ``StopSignal/Reason/unreachable(_:)``, and a retryable call ends `.notSent`.
///
/// Before every send after the first, a stop request ends the call with `.notSent`; so does a
/// cancelled wait. The caller's hooks record what it needs (journal states, counters, the
/// server's rate-limit headers); they may throw, which ends the call with that error.
///
/// Time is injected (`C: Clock`), so backoff is tested without sleeping.
package struct RetryExecutor<C: Clock>: Sendable where C.Duration == Duration {
    package let policy: RetryPolicy
    package let limiter: RateLimiter<C>?
    package let budget: ThrottleBudget<C>
    package let stop: StopSignal
    /// How long requests may go unanswered before the run stops (nil: no bound).
    package let silence: SilenceBudget<C>?
    package let clock: C
    /// The backoff's jitter.
    package let random: RunRandom

    package init(
        policy: RetryPolicy, limiter: RateLimiter<C>?, budget: ThrottleBudget<C>, silence: SilenceBudget<C>? = nil,
        stop: StopSignal, clock: C, random: RunRandom = .system
    ) {
        self.policy = policy
        self.limiter = limiter
        self.budget = budget
        self.silence = silence
        self.stop = stop
        self.clock = clock
        self.random = random
    }

    /// The same executor (limiter, budgets, stop) with another policy.
    package func with(policy: RetryPolicy) -> RetryExecutor {
        RetryExecutor(
            policy: policy, limiter: limiter, budget: budget, silence: silence, stop: stop, clock: clock,
            random: random)
    }

    /// How a call ended.
    package enum Ending<Value: Sendable, Failure: Error & Sendable>: Sendable {
        case answered(Value)
        /// The last failure, its class, and the attempts that failed (earlier calls' included).
        case failed(Failure, OutcomeClass, failedAttempts: Int)
        /// A stop was requested, or the wait was cancelled, before the request went out again.
        case notSent
    }

    /// Sends until an outcome the caller must act on. (Inlinable: it is generic over what it sends,
    /// and callers in other modules get it specialised instead of going through witness tables.)
    ///
    /// - Parameters:
    ///   - failedBefore: attempts that already failed (an ambiguous send the caller found absent).
    ///   - classify: the failure's class, as the API module decided it.
    ///   - beforeSend: after the limiter's slot, just before each send; `isRetry` for every send
    ///     after the first of this call (mark in flight, count).
    ///   - report: what a result said about the server's rate-limit window, for the limiter.
    ///   - afterAnswer: with every result, before it is acted on (counters, progress).
    ///   - onRetry: with a failure that will be sent again (record it as pending).
    ///
    /// (The hooks have no default: Swift 6.3's SILGen crashes on a defaulted closure with a typed
    /// `throws(Never)`.)
    @inlinable
    package func run<Value: Sendable, Failure: Error & Sendable, HookError: Error>(
        failedBefore: Int = 0,
        classify: (Failure) -> OutcomeClass,
        beforeSend: (_ isRetry: Bool) async throws(HookError) -> Void,
        send: () async -> Result<Value, Failure>,
        report: (Result<Value, Failure>) -> WindowReport,
        afterAnswer: (Result<Value, Failure>) async throws(HookError) -> Void,
        onRetry: (Failure) async throws(HookError) -> Void
    ) async throws(HookError) -> Ending<Value, Failure> {
        var random = self.random.generator
        var failed = failedBefore
        var isRetry = false
        while true {
            // A stop takes no new attempt; a refused token, not even a first one (every request
            // would be refused: "a rejected token stops the run at once").
            if (isRetry && stop.isRequested) || stop.tokenRefused { return .notSent }
            let ticket: WindowLedger.Ticket?
            do { ticket = try await limiter?.acquire() ?? nil } catch { return .notSent }
            if stop.tokenRefused {
                await limiter?.release(ticket)
                return .notSent
            }
            do throws(HookError) {
                try await beforeSend(isRetry)
            } catch {
                await limiter?.release(ticket)
                throw error
            }
            let sentAt = clock.now
            let result = await send()
            let window = report(result)
            await limiter?.answered(ticket, window)
            try await afterAnswer(result)
            if window.answered {
                silence?.answered()
            } else if case .failure(let error) = result,
                let reason = silence?.unanswered(String(describing: error), sentAt: sentAt)
            {
                stop.request(.unreachable(reason))
            }
            let failure: Failure
            switch result {
            case .success(let value):
                budget.answered()
                return .answered(value)
            case .failure(let error):
                failure = error
            }
            let outcome = classify(failure)
            switch outcome {
            case .throttled(let after):
                if let reason = budget.refused() {
                    stop.request(.rateLimited(reason))
                    return .failed(failure, outcome, failedAttempts: failed)
                }
                let pause = after ?? .seconds(1)
                if let limiter {
                    // Every worker waits: their next slots come after the pause.
                    await limiter.pause(for: pause)
                } else {
                    // No shared limiter (`--rate 0`): this request waits on its own.
                    guard await sleepUnlessStopped(for: pause) else { return .notSent }
                }
            case .retryable(let after):
                budget.answered()
                failed += 1
                // The server said when to come back: no worker sends before (this one backs off too).
                if let after, after > .zero, let limiter { await limiter.pause(for: after) }
                guard let delay = policy.backoff(afterFailedAttempts: failed, retryAfter: after, using: &random) else {
                    return .failed(failure, outcome, failedAttempts: failed)
                }
                try await onRetry(failure)
                if stop.isRequested { return .notSent }
                // No longer than the silence budget lasts: the send after it tells whether the API is back.
                let wait = silence?.timeLeft().map { min(delay, $0) } ?? delay
                guard await sleepUnlessStopped(for: wait) else { return .notSent }
                isRetry = true
                continue
            case .ambiguous, .permanent:
                budget.answered()
                failed += 1
                return .failed(failure, outcome, failedAttempts: failed)
            case .stopRun:
                budget.answered()
                failed += 1
                stop.request(.accessDenied(String(describing: failure)))
                return .failed(failure, outcome, failedAttempts: failed)
            }
            try await onRetry(failure)
            isRetry = true
        }
    }

    /// Sleeps for `delay`, or less when a stop is requested meanwhile (a backoff of up to
    /// `--retry-cap` must not hold a stopping run). True when the whole delay passed and no stop
    /// was requested; false after a stop or a cancellation.
    @usableFromInline
    func sleepUnlessStopped(for delay: Duration) async -> Bool {
        if stop.isRequested { return false }
        let clock = self.clock
        let stop = self.stop
        return await withTaskGroup(of: Bool.self) { group in
            group.addTask { (try? await clock.sleep(for: delay)) != nil }
            group.addTask {
                await stop.wait()
                return false
            }
            let slept = await group.next() ?? false
            group.cancelAll()
            return slept && !stop.isRequested
        }
    }
}

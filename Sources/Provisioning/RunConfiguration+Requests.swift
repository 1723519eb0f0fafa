import APIRequests
import Logging
import Scheduling

extension RunRequests {
    /// The requests of one run (or audit), tuned by `configuration`: its rate limit, retries and 429 budget.
    /// `clock`: what every wait is on (a test's manual clock; the configuration's otherwise).
    package static func make(
        _ configuration: RunConfiguration, stop: StopSignal, counters: RunCounters,
        logger: Logger = Logger(label: "licprov"), clock: RunClock? = nil
    ) -> RunRequests {
        let clock = clock ?? configuration.clock
        return RunRequests(
            executor: RetryExecutor(
                policy: configuration.retry,
                limiter: configuration.rate.map {
                    RateLimiter(
                        rate: $0, burst: configuration.burst, windowLimit: configuration.windowLimit, clock: clock,
                        wallClock: { clock.wallNow.timeIntervalSince1970 })
                },
                budget: ThrottleBudget(
                    maxConsecutive: configuration.max429s, stallTimeout: configuration.stallTimeout, clock: clock),
                silence: SilenceBudget(timeout: configuration.unreachableTimeout, clock: clock),
                stop: stop, clock: clock, random: configuration.random), counters: counters,
            operators: ListOperators(logger: logger))
    }
}

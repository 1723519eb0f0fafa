import CryptlexAPI
import Foundation
import Scheduling

/// The run's reads (license and user lookups): each through the shared rate limiter, its rate-limit
/// headers fed back to the limiter, and retried like any GET — a 429 pauses every worker, other
/// failures back off with full jitter until the policy gives up. A refused token stops the run.
struct RateLimitedReads: Sendable {
    let throttling: Throttling
    let policy: RetryPolicy
    private var limiter: RateLimiter<ContinuousClock>? { throttling.limiter }
    private var stop: StopSignal { throttling.stop }
    private var counters: RunCounters { throttling.counters }

    init(throttling: Throttling, policy: RetryPolicy) {
        self.throttling = throttling
        self.policy = policy
    }

    /// Why a read gave no answer.
    struct Failure: Error, Sendable { var reason: String }

    /// Performs `read` until it answers or cannot; `count` counts each request sent.
    func perform<Value: Sendable>(
        count: @Sendable (inout RunCounts) -> Void,
        _ read: @Sendable () async throws(APIError) -> CryptlexClient.Answer<Value>
    ) async -> Result<Value, Failure> {
        var random = SystemRandomNumberGenerator()
        var failures = 0
        while true {
            do { try await limiter?.acquire() } catch { return .failure(Failure(reason: "cancelled")) }
            counters.update(count)
            let answer: CryptlexClient.Answer<Value>
            do {
                answer = try await read()
            } catch {
                await throttling.answered(status: error.status, error.rateLimit)
                let message = error.errorDescription ?? "the lookup failed"
                switch error.outcome {
                case .stopRun:
                    stop.request(.accessDenied(message))
                    return .failure(Failure(reason: message))
                case .permanent:
                    return .failure(Failure(reason: message))
                case .retryable, .ambiguous:
                    let after: Duration? = if case .retryable(let after) = error.outcome { after } else { nil }
                    if error.status == 429 {
                        await throttling.tooManyRequests(retryAfter: after)
                    } else {
                        failures += 1
                    }
                    guard case .retry(let delay) = policy.decision(after: .retryable(after: after), failedAttempts: max(failures, 1), using: &random),
                          !stop.isRequested else {
                        return .failure(Failure(reason: message))
                    }
                    do { try await Task.sleep(for: delay) } catch { return .failure(Failure(reason: "cancelled")) }
                    continue
                }
            }
            await throttling.answered(status: answer.status, answer.rateLimit)
            return .success(answer.value)
        }
    }
}

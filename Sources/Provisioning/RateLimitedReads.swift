import CryptlexAPI
import Foundation
import Scheduling

/// The run's reads (license and user lookups): each through the shared rate limiter, its rate-limit
/// headers fed back to the limiter, and retried like any GET — a 429 pauses every worker, other
/// failures back off with full jitter until the policy gives up. A refused token stops the run.
struct RateLimitedReads: Sendable {
    let limiter: RateLimiter<ContinuousClock>?
    let policy: RetryPolicy
    let stop: StopSignal
    let counters: RunCounters

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
                await observe(error.rateLimit)
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
                        counters.update { $0.tooManyRequests += 1 }
                        await limiter?.pause(for: after ?? .seconds(1))
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
            await observe(answer.rateLimit)
            return .success(answer.value)
        }
    }

    /// Feeds a response's rate-limit headers to the limiter: with few requests left in the
    /// server's window, every worker waits for its reset (capped at the window, against clock skew).
    func observe(_ status: RateLimitStatus) async {
        guard let limiter, let remaining = status.remaining, let reset = status.reset else { return }
        let window = status.window ?? .seconds(5)
        let seconds = min(max(reset.timeIntervalSinceNow, 0), Double(window.components.seconds) + 1)
        await limiter.observe(remaining: remaining, resetsIn: .milliseconds(Int64(seconds * 1000)))
    }
}

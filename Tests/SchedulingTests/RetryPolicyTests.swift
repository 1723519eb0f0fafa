import Testing

@testable import Scheduling

@Suite("Retry policy: full-jitter backoff")
struct RetryPolicyTests {
    @Test func ceilingsDoubleUpToTheCap() {
        let policy = RetryPolicy(base: .milliseconds(500), cap: .seconds(3), maxAttempts: 10)
        #expect(
            (1...6).map { policy.ceiling(afterFailedAttempts: $0) } == [
                .milliseconds(500), .seconds(1), .seconds(2), .seconds(3), .seconds(3), .seconds(3),
            ])
        #expect(policy.ceiling(afterFailedAttempts: 200) == .seconds(3))
    }

    @Test func delaysStayWithinTheCeilingAndRespectRetryAfter() {
        let policy = RetryPolicy()
        var generator = SystemRandomNumberGenerator()
        for failed in 1..<policy.maxAttempts {
            for _ in 0..<200 {
                guard let delay = policy.backoff(afterFailedAttempts: failed, using: &generator) else {
                    Issue.record("expected a retry")
                    return
                }
                #expect(delay >= .zero && delay <= policy.ceiling(afterFailedAttempts: failed))
            }
        }
        // The first ceiling is 0.5 s, so a Retry-After of 7 s always wins.
        #expect(policy.backoff(afterFailedAttempts: 1, retryAfter: .seconds(7), using: &generator) == .seconds(7))
    }

    @Test func attemptsRunOut() {
        let policy = RetryPolicy(maxAttempts: 3)
        var generator = SystemRandomNumberGenerator()
        #expect(policy.backoff(afterFailedAttempts: 2, using: &generator) != nil)
        #expect(policy.backoff(afterFailedAttempts: 3, using: &generator) == nil)
    }
}

import Testing
@testable import Scheduling

@Suite("Retry policy: full-jitter backoff")
struct RetryPolicyTests {
    @Test func ceilingsDoubleUpToTheCap() {
        let policy = RetryPolicy(base: .milliseconds(500), cap: .seconds(3), maxAttempts: 10)
        #expect((1...6).map { policy.ceiling(afterFailedAttempts: $0) } ==
                [.milliseconds(500), .seconds(1), .seconds(2), .seconds(3), .seconds(3), .seconds(3)])
        #expect(policy.ceiling(afterFailedAttempts: 200) == .seconds(3))
    }

    @Test func delaysStayWithinTheCeilingAndRespectRetryAfter() {
        let policy = RetryPolicy()
        var generator = SystemRandomNumberGenerator()
        for failed in 1..<policy.maxAttempts {
            for _ in 0..<200 {
                guard case .retry(let delay) = policy.decision(after: .retryable(after: nil), failedAttempts: failed, using: &generator) else {
                    Issue.record("expected a retry")
                    return
                }
                #expect(delay >= .zero && delay <= policy.ceiling(afterFailedAttempts: failed))
            }
        }
        // The first ceiling is 0.5 s, so a Retry-After of 7 s always wins.
        #expect(policy.decision(after: .retryable(after: .seconds(7)), failedAttempts: 1, using: &generator) == .retry(after: .seconds(7)))
    }

    @Test func eachClassGetsItsDecision() {
        let policy = RetryPolicy(maxAttempts: 3)
        var generator = SystemRandomNumberGenerator()
        #expect(policy.decision(after: .ambiguous, failedAttempts: 1, using: &generator) == .reconcile)
        #expect(policy.decision(after: .permanent, failedAttempts: 1, using: &generator) == .giveUp)
        #expect(policy.decision(after: .stopRun, failedAttempts: 1, using: &generator) == .stopRun)
        #expect(policy.decision(after: .retryable(after: nil), failedAttempts: 3, using: &generator) == .giveUp)
    }
}

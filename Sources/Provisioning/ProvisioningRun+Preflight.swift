import CryptlexAPI
import Foundation
import Scheduling

/// A run that cannot start: the API does not answer at all.
public struct APIUnreachable: Error, LocalizedError, Sendable {
    public var url: String
    public var reason: String
    public var errorDescription: String? {
        "cannot reach the API at \(url): \(reason). Check --api-url (or CRYPTLEX_API_URL) and the network; nothing was sent"
    }
}

extension ProvisioningRun {
    /// One cheap request before the first create: a refused token stops the run in a second, not
    /// after thousands of rows, and an unreachable API is reported as such (thrown).
    func preflight(_ requests: RunRequests) async throws {
        // Three tries half a second apart for an API that does not answer; 429s are bounded by
        // the run's budget, a refused token stops the run (the executor says so).
        let patient = RunRequests(executor: requests.executor.with(policy: RetryPolicy(base: .milliseconds(500), cap: .seconds(1), maxAttempts: 3)),
                                  counters: requests.counters)
        let client = self.client
        // Any answer from the server (even a 4xx or a 5xx to an empty query) proves it is there:
        // nothing but a missing answer, a 429 or a refused token is acted on.
        let ending = await patient.send(classify: { $0.status == nil || $0.status == 429 || $0.outcome == .stopRun ? $0.outcome : .permanent },
                                        count: { _, _ in }) { () async throws(APIError) in
            try await client.findLicenses(LicenseQuery(), page: 1, limit: 1)
        }
        if case .failed(let error, .retryable, _) = ending, error.status == nil {
            throw APIUnreachable(url: client.baseURL.description, reason: error.description)
        }
    }
}

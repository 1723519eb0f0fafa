import APIRequests
import CryptlexAPI
import CryptlexModels
import Foundation
import Scheduling

/// A run that cannot start: the API does not answer at all.
package struct APIUnreachable: Error, LocalizedError, Sendable {
    package var url: String
    package var reason: String
    package var errorDescription: String? {
        if reason.contains("TLS handshake") {
            return
                "cannot reach the API at \(url): \(reason). If your network re-signs TLS (a corporate proxy) or the server uses a private CA, "
                + "pass --ca-file PATH (or set SSL_CERT_FILE) with that CA's certificate; nothing was sent"
        }
        return
            "cannot reach the API at \(url): \(reason). Check --api-url (or CRYPTLEX_API_URL), the proxy (HTTPS_PROXY, NO_PROXY) and the network; nothing was sent"
    }
}

extension ProvisioningRun {
    /// One cheap request before the first create: a refused token stops the run in a second, not
    /// after thousands of rows, and an unreachable API is reported as such (thrown).
    func preflight(_ requests: RunRequests) async throws {
        // Three tries half a second apart for an API that does not answer; 429s are bounded by
        // the run's budget, a refused token stops the run (the executor says so).
        let patient = RunRequests(
            executor: requests.executor.with(
                policy: RetryPolicy(base: .milliseconds(500), cap: .seconds(1), maxAttempts: 3)),
            counters: requests.counters, operators: requests.operators)
        let client = self.client
        // Any answer from the server (even a 4xx or a 5xx to an empty query) proves it is there:
        // nothing but a missing answer, a 429, a 503's `Retry-After` (waited out before the run
        // goes on) or a refused token is acted on.
        // A refused connection (untrusted certificate, a proxy that says no) is not tried again:
        // the same set-up gets the same answer.
        let ending = await patient.send(
            classify: { error in
                if case .transport(.refused) = error.failure { return .permanent }
                if case .retryable(_?) = error.outcome { return error.outcome }
                return error.status == nil || error.status == 429 || error.outcome == .stopRun
                    ? error.outcome : .permanent
            }, count: { _, _ in },
            { () async throws(APIError) in try await client.findLicenses(LicenseQuery(), page: 1, limit: 1) })
        if case .failed(let error, let outcome, _) = ending, error.status == nil, outcome != .stopRun {
            throw APIUnreachable(
                url: client.baseURL.description, reason: error.failure.transportDetail ?? error.description)
        }
    }
}

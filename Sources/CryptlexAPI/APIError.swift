import Foundation
import NIOHTTP1
import Scheduling

/// A request that did not give the expected answer: which request, what came back, and what it
/// means for the caller (``OutcomeClass``). Holds no token and no request body.
package struct APIError: Error, Sendable, LocalizedError, CustomStringConvertible {
    /// What went wrong.
    package enum Failure: Sendable, Equatable {
        /// The server answered with a non-success status.
        case http(status: Int, code: String?, message: String)
        /// The request failed below HTTP.
        case transport(TransportError)
        /// A success status with a body that is not what the schema promises.
        case undecodable(status: Int, reason: String)

        /// What went wrong below HTTP, in words, when that is what went wrong.
        package var transportDetail: String? {
            if case .transport(let error) = self { return error.detail }
            return nil
        }
    }

    package var method: String
    /// The path, without the query string.
    package var path: String
    package var failure: Failure
    /// What the caller should do.
    package var outcome: OutcomeClass
    /// The rate-limit headers of the response, when there was one.
    package var rateLimit: RateLimitStatus
    /// The start of the response body, for the log and the results file.
    package var bodyExcerpt: String

    /// The one-line message (``errorDescription``).
    package var description: String { errorDescription ?? "\(method) \(path): failed" }

    /// The HTTP status, when the server answered.
    package var status: Int? {
        switch failure {
        case .http(let status, _, _), .undecodable(let status, _): status
        case .transport: nil
        }
    }

    /// A one-line message for people, with method, path, status and the server's message.
    package var errorDescription: String? {
        switch failure {
        case .http(let status, let code, let message):
            "\(method) \(path): HTTP \(status)\(code.map { " \($0)" } ?? ""): \(message)"
        case .transport(let error):
            "\(method) \(path): \(error.detail)"
        case .undecodable(let status, let reason):
            "\(method) \(path): HTTP \(status) with an unreadable body (\(reason))"
        }
    }
}

extension APIError {
    /// Classifies an HTTP error status, per the table on ``OutcomeClass``.
    static func outcome(forStatus status: Int, method: String, rateLimit: RateLimitStatus) -> OutcomeClass {
        let idempotent = method == "GET"
        switch status {
        case 401, 403: return .stopRun
        case 429: return .throttled(after: rateLimit.retryAfter)
        case 503 where rateLimit.retryAfter != nil: return .retryable(after: rateLimit.retryAfter)
        case 400..<500: return .permanent
        default: return idempotent ? .retryable(after: nil) : .ambiguous
        }
    }

    /// Classifies a transport failure: only a request that was certainly not sent is plainly
    /// retryable, unless it was a GET, which is always safe to repeat.
    static func outcome(for error: TransportError, method: String) -> OutcomeClass {
        if method == "GET" { return .retryable(after: nil) }
        switch error {
        case .connectFailed, .refused: return .retryable(after: nil)
        case .connectionLost, .timedOut, .cancelled: return .ambiguous
        }
    }

    /// The server's message from an error body, whatever the body is: Cryptlex's JSON
    /// `{"message", "code"}`, plain text, an HTML page from a load balancer, or nothing.
    static func parseErrorBody(_ body: [UInt8], status: Int) -> (message: String, code: String?) {
        struct ErrorBody: Decodable {
            var message: String?
            var code: String?
        }
        if let parsed = try? JSONDecoder().decode(ErrorBody.self, from: Data(body)), let message = parsed.message {
            return (message, parsed.code)
        }
        let text = String(decoding: body.prefix(2048), as: UTF8.self)
        if text.range(of: "<html", options: .caseInsensitive) != nil {
            if let start = text.range(of: "<title>", options: .caseInsensitive),
                let end = text.range(of: "</title>", options: .caseInsensitive, range: start.upperBound..<text.endIndex)
            {
                return (
                    String(text[start.upperBound..<end.lowerBound]).trimmingCharacters(in: .whitespacesAndNewlines), nil
                )
            }
            return ("an HTML error page", nil)
        }
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.isEmpty { return (HTTPStatusText.phrase(for: status), nil) }
        return (String(trimmed.prefix(300)).replacingOccurrences(of: "\n", with: " "), nil)
    }
}

/// Reason phrases for statuses a body may not explain (NIOHTTP1's table).
enum HTTPStatusText {
    static func phrase(for status: Int) -> String {
        let phrase = HTTPResponseStatus(statusCode: status).reasonPhrase
        return phrase.isEmpty ? "HTTP \(status)" : phrase
    }
}

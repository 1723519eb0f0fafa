import Foundation

/// A short, groupable reason for a license that was not created.
package enum FailureReason {
    package static func of(status: Int?, message: String?) -> String {
        // Blank what differs from row to row (quoted ids and keys, license ids) so that alike failures group.
        var text = (message ?? "no message")
            .replacingOccurrences(of: #"'[^']*'|"[^"]*""#, with: "…", options: .regularExpression)
            .replacingOccurrences(
                of: #"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"#, with: "…",
                options: .regularExpression)
        text = String(text.prefix(100)).trimmingCharacters(in: .whitespaces)
        return message == nil ? (status.map { "HTTP \($0)" } ?? text) : text
    }
}

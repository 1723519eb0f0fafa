import Foundation

/// What one answer said about the server's rate-limit window (from `X-Rate-Limit-*`; the API
/// module fills it in). All nil: the answer carried none (a lost response, stripped headers).
package struct WindowReport: Sendable, Equatable {
    /// An HTTP answer came back (false: a lost response, a refused connection).
    package var answered: Bool
    /// The answer was a 429.
    package var refused: Bool
    /// Requests left in the window the request was counted in.
    package var remaining: Int?
    /// When that window ends, on the server's clock (`X-Rate-Limit-Reset`).
    package var windowEnd: Date?
    /// The window's length (`X-Rate-Limit-Limit`).
    package var window: Duration?

    package init(
        answered: Bool = false, refused: Bool = false, remaining: Int? = nil, windowEnd: Date? = nil,
        window: Duration? = nil
    ) {
        self.answered = answered
        self.refused = refused
        self.remaining = remaining
        self.windowEnd = windowEnd
        self.window = window
    }

    /// Nothing came back.
    package static let none = WindowReport()
}

/// A failure below HTTP, as a transport reports it: what matters is whether the request can
/// have reached the server.
package enum TransportError: Error, Sendable, Equatable {
    /// No connection was made: the request was certainly not sent.
    case connectFailed(String)
    /// A connection was made, but refused before the request went: the server's TLS certificate
    /// is not trusted, or the proxy refused the tunnel. Certainly not sent, and sending again
    /// will not help until the set-up changes.
    case refused(String)
    /// The connection failed or timed out after the request may have been sent.
    case connectionLost(String)
    /// The request did not finish within its deadline; it may have been sent.
    case timedOut(String)
    /// The task was cancelled while the request was in flight.
    case cancelled

    /// A short, secret-free description.
    package var detail: String {
        switch self {
        case .connectFailed(let reason): "could not connect (\(reason))"
        case .refused(let reason): reason
        case .connectionLost(let reason): "the connection was lost (\(reason))"
        case .timedOut(let reason): "timed out (\(reason))"
        case .cancelled: "cancelled"
        }
    }
}

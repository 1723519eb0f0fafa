import Synchronization

/// Tells the workers of a run to take no new work: shared by the signal handler, the workers
/// (a refused token stops the run) and whoever waits for the run.
///
/// The first reason given wins; later ones are ignored, so a run that stopped because its token
/// was refused reports that, not the Ctrl-C that followed.
public final class StopSignal: Sendable {
    /// Why a run stops early.
    public enum Reason: Sendable, Equatable {
        /// SIGINT or SIGTERM: finish what is in flight, then stop; a rerun resumes.
        case interrupted
        /// The API refused the token or its permissions: no request can succeed.
        case accessDenied(String)
        /// Too many rows failed in a row (`--max-failures`).
        case tooManyFailures(Int)
        /// The first item of the work, sent alone, was refused: the cause is most likely shared by
        /// every item (for licenses: a product or template that does not exist).
        case firstItemRejected(String)
        /// The server kept refusing with "too many requests" past the run's budget
        /// (``ThrottleBudget``): another client shares the limit, or a proxy refuses everything.
        case rateLimited(String)
        /// Requests kept going unanswered past the run's ``SilenceBudget``: the API (or the way
        /// to it) went away.
        case unreachable(String)
    }

    private let state = Mutex<Reason?>(nil)

    public init() {}

    /// Asks every worker to stop taking work. Returns true when this call was the first.
    @discardableResult
    public func request(_ reason: Reason) -> Bool {
        state.withLock { current in
            guard current == nil else { return false }
            current = reason
            return true
        }
    }

    /// The reason, once a stop was requested.
    public var reason: Reason? { state.withLock { $0 } }

    public var isRequested: Bool { reason != nil }
}

import Synchronization

/// Tells the workers of a run to take no new work: shared by the signal handler, the workers
/// (a refused token stops the run) and whoever waits for the run.
///
/// The first reason given wins; later ones are ignored, so a run that stopped because its token
/// was refused reports that, not the Ctrl-C that followed. ``wait()`` lets a worker that is
/// sleeping between attempts wake at the stop instead of at the end of its backoff.
package final class StopSignal: Sendable {
    /// Why a run stops early.
    package enum Reason: Sendable, Equatable {
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

    private struct State {
        var reason: Reason?
        /// A refused token was reported (first or not): nothing more may be sent.
        var tokenRefused = false
        /// Tasks in ``wait()``, by id.
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        /// Waits cancelled before they registered: they return at once when they do.
        var cancelled: Set<UInt64> = []
        var nextID: UInt64 = 0
    }

    private let state = Mutex(State())

    package init() {}

    /// Asks every worker to stop taking work, and wakes every ``wait()``. Returns true when this
    /// call was the first.
    @discardableResult
    package func request(_ reason: Reason) -> Bool {
        let woken: [CheckedContinuation<Void, Never>]? = state.withLock { state in
            if case .accessDenied = reason { state.tokenRefused = true }
            guard state.reason == nil else { return nil }
            state.reason = reason
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        guard let woken else { return false }
        for continuation in woken { continuation.resume() }
        return true
    }

    /// The reason, once a stop was requested.
    package var reason: Reason? { state.withLock { $0.reason } }

    package var isRequested: Bool { reason != nil }

    /// The API refused the token (even after another reason stopped the run): no request may be
    /// sent any more, not even a lookup that would settle what is in flight — each would be refused.
    package var tokenRefused: Bool { state.withLock { $0.tokenRefused } }

    /// Returns once a stop is requested (at once if it already was), or when the calling task is
    /// cancelled.
    package func wait() async {
        let id = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now = state.withLock { state -> Bool in
                    if state.reason != nil || state.cancelled.remove(id) != nil { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            let waiting = state.withLock { state -> CheckedContinuation<Void, Never>? in
                if let continuation = state.waiters.removeValue(forKey: id) { return continuation }
                if state.reason == nil { state.cancelled.insert(id) }
                return nil
            }
            waiting?.resume()
        }
    }
}

import CryptlexAPI
import CryptlexModels
import Logging
import Synchronization

/// The list filter operators the API refused this run. A 400 to a query that used `in` (or `sw`)
/// switches every lookup that would use it to one value a request (`eq`) for the rest of the run,
/// said once in the log: a run never fails because a server lacks an operator, it only sends more
/// requests. Shared by a run's lookups (customers, reconciliation, change targets) and by audit.
package final class ListOperators: Sendable {
    package enum Operator: String, Sendable {
        case `in`
        case startsWith = "sw"
    }

    private let refused = Mutex<Set<Operator>>([])
    private let logger: Logger

    package init(logger: Logger) {
        self.logger = logger
    }

    package func refuses(_ op: Operator) -> Bool {
        refused.withLock { $0.contains(op) }
    }

    /// Notes that the API answered 400 to a query with `op` on `filter`; logs it the first time.
    package func refuse(_ op: Operator, filter: String, reason: String) {
        let first = refused.withLock { $0.insert(op).inserted }
        guard first else { return }
        logger.warning(
            "the API refused the list filter \(filter)[\(op.rawValue)] (\(reason)); looking up one value a request instead for the rest of the run"
        )
    }
}

import Provisioning
import Synchronization
import UnixSignals

typealias ProvisioningRunReport = ProvisioningRun.Report

/// Catches SIGINT and SIGTERM for the length of a run (swift-service-lifecycle's `UnixSignals`)
/// and counts them: the first asks the run to stop taking work, the second to stop at once.
enum SignalTrap {
    /// Traps the signals — they are caught from the moment this returns — and calls `handler`
    /// with the count of signals so far, on each one. Cancel the task to stop watching.
    static func watch(_ handler: @escaping @Sendable (Int) -> Void) async -> Task<Void, Never> {
        let signals = await UnixSignalsSequence(trapping: .sigint, .sigterm)
        return Task {
            var count = 0
            for await _ in signals {
                count += 1
                handler(count)
            }
        }
    }
}

/// The run's task, for a signal that arrives before or after it exists: a cancel asked for before
/// ``set(_:)`` cancels the task as soon as it is set.
final class CancellableTask: Sendable {
    private let state = Mutex<(task: Task<ProvisioningRunReport, any Error>?, cancelled: Bool)>((nil, false))

    func set(_ task: Task<ProvisioningRunReport, any Error>) {
        let cancelled = state.withLock { state in
            state.task = task
            return state.cancelled
        }
        if cancelled { task.cancel() }
    }

    func cancel() {
        let task = state.withLock { state in
            state.cancelled = true
            return state.task
        }
        task?.cancel()
    }
}

/// The task executor the current task prefers (SE-0417), for the tasks and the blocking work a run
/// starts by itself.
///
/// A run never sets one: its tasks go to Swift's global executor and its blocking work (reading a
/// file, SQLite's `fsync`) to threads of its own. The simulation runs a whole process on one
/// thread of its own (`withTaskExecutorPreference`), jobs taken in the order they come, so that a
/// seed replays the same requests in the same order whatever the machine does. Child tasks inherit
/// that preference; unstructured tasks do not — so a run starts its own with ``Task/inheriting(_:)``
/// — and work handed to another thread would come back at a time the machine decides, so under a
/// preference it is done where the task is (``isSet``).
package enum PreferredExecutor {
    /// The current task's preferred executor; nil for a run's own tasks.
    package static var current: (any TaskExecutor)? {
        withUnsafeCurrentTask { $0?.unownedTaskExecutor?.asTaskExecutor() }
    }

    /// Whether the current task prefers an executor: its blocking work is done in place.
    package static var isSet: Bool { withUnsafeCurrentTask { $0?.unownedTaskExecutor != nil } }
}

extension Task where Failure == Never {
    /// `Task { }`, on the executor the current task prefers (see ``PreferredExecutor``).
    @discardableResult
    package static func inheriting(_ operation: sending @escaping () async -> Success) -> Task<Success, Never> {
        Task(executorPreference: PreferredExecutor.current, operation: operation)
    }
}

extension Task where Failure == any Error {
    /// `Task { }` of throwing work, on the executor the current task prefers.
    @discardableResult
    package static func inheriting(_ operation: sending @escaping () async throws -> Success) -> Task<
        Success, any Error
    > {
        Task(executorPreference: PreferredExecutor.current, operation: operation)
    }
}

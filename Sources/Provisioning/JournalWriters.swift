import Journal
import Scheduling
import Synchronization

/// The run's writers of its journal that work on their own time — the group committer and the
/// work feed's loader — seen from outside the run.
///
/// A simulation kills a process at a request its seed draws; what the killed process leaves in
/// its journal must then depend on the seed, not on how far the committer and the loader had got
/// by the time the kill landed. The simulation holds every request, waits here until both are
/// idle, and only then takes the journal as the kill leaves it (a run never waits here).
package final class JournalWriters: Sendable {
    private let idleChecks = Mutex<[@Sendable () async -> Bool]>([])

    package init() {}

    /// Watches a writer: `isIdle` answers whether it has nothing under way or about to start.
    func watch(_ isIdle: @escaping @Sendable () async -> Bool) {
        idleChecks.withLock { $0.append(isIdle) }
    }

    /// Waits until every watched writer is idle twice in a row, a pause apart; false when `limit`
    /// passes first. (Under a task executor preference — a simulation's one thread — the pause is
    /// a yield: every job queued before it runs first, and no real time may pass, as that thread
    /// moves the simulation's clock whenever it has nothing to run.)
    package func waitUntilIdle(limit: Duration = .seconds(5)) async -> Bool {
        let inPlace = PreferredExecutor.isSet
        let deadline = ContinuousClock.now.advanced(by: limit)
        var idleInARow = 0
        while ContinuousClock.now < deadline {
            var idle = true
            for check in idleChecks.withLock({ $0 }) where !(await check()) { idle = false }
            idleInARow = idle ? idleInARow + 1 : 0
            if idleInARow == 2 { return true }
            await Task.yield()
            if !inPlace { try? await Task.sleep(for: .microseconds(200)) }
        }
        return false
    }
}

extension JournalWriters {
    /// Watches a run's committer and its work feed's loader.
    func watch(_ committer: JournalCommitter, _ feed: WorkFeed) {
        watch { committer.isIdle }
        watch { await feed.loaderIsIdle }
    }
}

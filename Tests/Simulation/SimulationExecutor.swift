import Foundation
import TestSupport

/// One schedule's scheduler: a thread of its own that runs every job of the schedule's tasks — the
/// simulator's, each licprov process's workers, feed, lookups and limiter, the emulator's answers —
/// one at a time, in the order they were enqueued, and moves the schedule's clock only when it has
/// nothing to run.
///
/// Swift's global executor runs jobs on a pool of threads in an order the machine decides: two
/// workers' requests reach the server in either order, and a clock moved "when everything waits"
/// is moved when it looks so. Here a job is enqueued only by a job before it (a task started, a
/// continuation resumed, an actor entered) or by the clock's move, so the order of every job is
/// the seed's, and "nothing to run" is exact: time moves to the next deadline then, never sooner.
///
/// The engine runs here by task executor preference (SE-0417, `withTaskExecutorPreference`): child
/// tasks and default actors inherit it; a run's unstructured tasks ask for it (`Task.inheriting`);
/// its blocking work — the planner's read of the file, the group committer — is done in place
/// under a preference rather than on threads of their own (`PreferredExecutor` in Scheduling).
/// What still comes from another thread: the simulator's watchdog (real time, for hangs) and a
/// cancelled request's real-time timer — neither touches a schedule that does not hang.
package final class SimulationExecutor: TaskExecutor, @unchecked Sendable {
    private let condition = NSCondition()
    /// Jobs to run, oldest first (`head` is the next).
    private var jobs: [UnownedJob] = []
    private var head = 0
    private var stopping = false
    private let clock: ManualClock

    package init(clock: ManualClock) {
        self.clock = clock
        let thread = Thread { [self] in runJobs() }
        thread.name = "licprov-simulation"
        thread.stackSize = 8 << 20
        thread.start()
    }

    package func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    /// Ends the thread once it has run what it was given (the schedule is over).
    package func stop() {
        condition.lock()
        stopping = true
        condition.signal()
        condition.unlock()
    }

    private func runJobs() {
        condition.lock()
        while true {
            if head < jobs.count {
                let job = jobs[head]
                head += 1
                if head > 1_024 {
                    jobs.removeFirst(head)
                    head = 0
                }
                condition.unlock()
                job.runSynchronously(on: asUnownedTaskExecutor())
                condition.lock()
                continue
            }
            if stopping { break }
            // Nothing to run: time moves to the next deadline (waking its sleepers enqueues their
            // jobs here at once); with no sleeper either, wait for a job from outside.
            condition.unlock()
            let moved = clock.advanceToNextDeadline()
            condition.lock()
            if !moved, head == jobs.count, !stopping { condition.wait() }
        }
        condition.unlock()
    }
}

import Synchronization

/// A clock that moves only when a test says so: sleepers wake when `advance` passes their deadline.
public final class ManualClock: Clock, Sendable {
    public init() {}

    public struct Instant: InstantProtocol {
        public var offset: Duration
        public func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }
        public func duration(to other: Instant) -> Duration { other.offset - offset }
        public static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.offset < rhs.offset }
    }

    private struct State {
        var now = Instant(offset: .zero)
        var sleepers: [(id: Int, deadline: Instant, continuation: CheckedContinuation<Void, any Error>)] = []
        var nextID = 0
        /// Tasks waiting for this many sleepers (``waitForSleepers(_:)``).
        var watchers: [(count: Int, continuation: CheckedContinuation<Void, Never>)] = []

        /// Takes the watchers whose count of sleepers has been reached.
        mutating func satisfiedWatchers() -> [CheckedContinuation<Void, Never>] {
            let reached = watchers.filter { $0.count <= sleepers.count }.map(\.continuation)
            watchers.removeAll { $0.count <= sleepers.count }
            return reached
        }
    }

    private let state = Mutex(State())
    public var now: Instant { state.withLock { $0.now } }
    public var minimumResolution: Duration { .nanoseconds(1) }
    public var sleeperCount: Int { state.withLock { $0.sleepers.count } }

    public func sleep(until deadline: Instant, tolerance: Duration?) async throws {
        let id = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                var watchers: [CheckedContinuation<Void, Never>] = []
                let outcome = state.withLock { state -> Bool? in
                    if Task.isCancelled { return false }
                    if deadline <= state.now { return true }
                    state.sleepers.append((id, deadline, continuation))
                    watchers = state.satisfiedWatchers()
                    return nil
                }
                for watcher in watchers { watcher.resume() }
                switch outcome {
                case true?: continuation.resume()
                case false?: continuation.resume(throwing: CancellationError())
                case nil: break
                }
            }
        } onCancel: {
            let cancelled = state.withLock { state -> CheckedContinuation<Void, any Error>? in
                guard let index = state.sleepers.firstIndex(where: { $0.id == id }) else { return nil }
                return state.sleepers.remove(at: index).continuation
            }
            cancelled?.resume(throwing: CancellationError())
        }
    }

    /// Moves time to the earliest sleeper's deadline and wakes it (and any other due then); false
    /// when nobody sleeps.
    @discardableResult
    public func advanceToNextDeadline() -> Bool {
        let next = state.withLock { $0.sleepers.map(\.deadline).min() }
        guard let next else { return false }
        let now = self.now
        advance(by: next < now ? .zero : now.duration(to: next))
        return true
    }

    /// Moves time forward and wakes every sleeper whose deadline has come.
    public func advance(by duration: Duration) {
        let due = state.withLock { state -> [CheckedContinuation<Void, any Error>] in
            state.now = state.now.advanced(by: duration)
            let now = state.now
            let due = state.sleepers.filter { $0.deadline <= now }.map(\.continuation)
            state.sleepers.removeAll { $0.deadline <= now }
            return due
        }
        for sleeper in due { sleeper.resume() }
    }

    /// Waits until `count` tasks sleep on this clock: suspended, woken by the sleep that makes the
    /// count (a loop of `Task.yield()` here held pool threads while suites ran side by side, and on
    /// two cores starved unrelated tests for a minute).
    public func waitForSleepers(_ count: Int) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let ready = state.withLock { state -> Bool in
                if state.sleepers.count >= count { return true }
                state.watchers.append((count, continuation))
                return false
            }
            if ready { continuation.resume() }
        }
    }
}

/// Runs a ``ManualClock`` for code that waits on it by itself: whenever something sleeps on the
/// clock, time moves to the earliest deadline (after letting whatever can run reach its own wait).
/// Time never moves otherwise, so every wait lasts exactly as long on the clock as it asked — what
/// a test that compares two waits (how long licprov waited, how far a search lags) needs — and
/// takes no real time.
public final class ClockDriver: Sendable {
    public let clock: ManualClock
    private let stopped = Mutex(false)
    private let task: Mutex<Task<Void, Never>?> = Mutex(nil)

    public init(_ clock: ManualClock = ManualClock()) {
        self.clock = clock
        let driving = Task { [self] in
            while true {
                await clock.waitForSleepers(1)
                if stopped.withLock({ $0 }) { return }
                for _ in 0..<8 { await Task.yield() }
                clock.advanceToNextDeadline()
            }
        }
        task.withLock { $0 = driving }
    }

    /// Stops driving (a sleeper made for the purpose wakes the driver to see it).
    public func stop() async {
        stopped.withLock { $0 = true }
        let poke = Task { [clock] in
            try? await clock.sleep(until: clock.now.advanced(by: .seconds(1_000_000_000)), tolerance: nil)
        }
        await task.withLock { $0 }?.value
        poke.cancel()
    }
}

import Foundation

/// Any `Clock<Duration>` behind one concrete type: the clock a run's requests wait on.
///
/// ``RetryExecutor``, ``RateLimiter`` and the budgets are generic over their clock, which suits
/// their unit tests; the provisioning types that hold them (the workers, the customer and marker
/// lookups, ``RunRequests`` in Provisioning) would otherwise all become generic too, only so a test
/// can put a manual clock under them. This wrapper keeps them concrete: production passes
/// ``continuous``, a test passes `RunClock(ManualClock())`. (A concrete type, not `any Clock`: an
/// existential does not conform to `Clock`, so it could not be the executor's `C`.)
///
/// Instants are durations since the wrapper was made. It also tells the wall-clock time
/// (``wallNow``: what the journal writes, what the limiter reads the server's windows against):
/// the system's, or — for a clock a simulation moves — a wall clock moved by this clock alone, so
/// that those times replay and agree with the emulator's.
package struct RunClock: Clock {
    package struct Instant: InstantProtocol {
        package var offset: Duration
        package func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }
        package func duration(to other: Instant) -> Duration { other.offset - offset }
        package static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.offset < rhs.offset }
    }

    private let elapsed: @Sendable () -> Duration
    private let sleeper: @Sendable (_ offset: Duration, _ tolerance: Duration?) async throws -> Void
    private let wallOrigin: Date?
    package let minimumResolution: Duration

    /// `clock`, with the system's wall clock; or, given `wallOrigin`, a wall clock that reads
    /// `wallOrigin` at `clock`'s present and moves with `clock` alone.
    package init<C: Clock>(_ clock: C, wallOrigin: Date? = nil) where C.Duration == Duration {
        let origin = clock.now
        elapsed = { origin.duration(to: clock.now) }
        sleeper = { offset, tolerance in try await clock.sleep(until: origin.advanced(by: offset), tolerance: tolerance)
        }
        minimumResolution = clock.minimumResolution
        self.wallOrigin = wallOrigin
    }

    /// The wall-clock time now (see the type's description).
    package var wallNow: Date {
        guard let wallOrigin else { return Date() }
        return wallOrigin.addingTimeInterval(elapsed().secondsValue)
    }

    /// The monotonic clock of the process (what every run uses).
    package static var continuous: RunClock { RunClock(ContinuousClock()) }

    package var now: Instant { Instant(offset: elapsed()) }

    package func sleep(until deadline: Instant, tolerance: Duration? = nil) async throws {
        try await sleeper(deadline.offset, tolerance)
    }
}

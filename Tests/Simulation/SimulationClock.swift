import CryptlexEmulator
import Foundation

/// The simulation's time: it runs ``speed`` times faster than the machine's, for licprov's waits
/// (the run's `RunClock`: backoff, `Retry-After` pauses, the reconcile delay, lookups' gathering)
/// and for the emulator (`createdAt`, how far its search lags) alike. So a schedule keeps the
/// product's own waits — a 5 s reconcile delay, a search seconds behind, `Retry-After: 3` — at
/// milliseconds of real time, and both sides of each comparison read one clock: licprov, having
/// waited its reconcile delay on it, finds what the emulator has shown on it since.
///
/// Not a virtual clock: time still passes by itself (a loaded machine makes every wait longer,
/// never shorter, so no comparison turns unsound), and where the engine's tasks are scheduled is
/// still the machine's (see `SimulatedProcess` for what is replayed exactly).
struct SimulationClock: Clock, Sendable {
    struct Instant: InstantProtocol {
        var offset: Duration
        func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }
        func duration(to other: Instant) -> Duration { other.offset - offset }
        static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.offset < rhs.offset }
    }

    /// How many simulated seconds pass in a second of the machine's.
    static let speed = 250

    private let origin = ContinuousClock.now
    /// The wall clock when the schedule began, in nanoseconds since 1970.
    private let wallOrigin = Int64(Date().timeIntervalSince1970 * 1e9)

    var now: Instant { Instant(offset: (ContinuousClock.now - origin) * Self.speed) }
    var minimumResolution: Duration { .nanoseconds(Self.speed) }

    func sleep(until deadline: Instant, tolerance: Duration? = nil) async throws {
        while case let left = now.duration(to: deadline), left > .zero {
            try await Task.sleep(for: left / Self.speed + .nanoseconds(1))
        }
    }

    /// The emulator's "now": the wall clock at the schedule's start, advanced at the simulation's speed.
    var emulatorClock: EmulatorClock {
        let clock = self
        return EmulatorClock { clock.wallOrigin + clock.now.offset.nanoseconds }
    }
}

extension Duration {
    /// The whole nanoseconds in it.
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}

import CryptlexEmulator
import EmulatorTransport
import Foundation
import Scheduling
import Synchronization
import TestSupport

/// The simulation's time: a manual clock, moved to the next deadline whenever the schedule's
/// thread has nothing to run (``SimulationExecutor``), read by licprov's waits (the run's
/// `RunClock`: backoff, `Retry-After` pauses, the reconcile delay, lookups' gathering) and by the
/// emulator (`createdAt`, how far its search lags) alike. So a schedule keeps the product's own waits — a 5 s reconcile delay, a
/// search seconds behind, `Retry-After: 3` — at no real time, and both sides of each comparison read
/// one clock: licprov, having waited its reconcile delay on it, finds what the emulator has shown
/// on it since, exactly, however loaded the machine.
///
/// Virtual time on a virtual scheduler: the schedule's tasks run on its executor, which moves the
/// clock.
struct SimulationTime: Sendable {
    let clock = ManualClock()
    let executor: SimulationExecutor
    let seed: UInt64
    /// The processes' chance (their backoff's jitter), drawn from the seed in the order the
    /// executor runs them.
    let random: RunRandom

    init(seed: UInt64) {
        self.seed = seed
        executor = SimulationExecutor(clock: clock)
        // From a whole second: the times the journal writes (to the millisecond) are then the same
        // offsets from it on every replay.
        let origin = Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down))
        emulatorClock = .following(clock, from: origin)
        runClock = RunClock(clock, wallOrigin: origin)
        let generator = Mutex(SeededGenerator(seed: seed ^ 0x6A09_E667_F3BC_C908))
        random = RunRandom { generator.withLock { $0.next() } }
    }

    /// Time passes between processes, as it does between commands: an hour before a new command
    /// (the next night's file, an audit), and before a process that runs the same command again
    /// (after a kill, a stop) a tenth of a second (systemd's default `RestartSec`), a second or a
    /// minute, drawn from the seed and the process — the first two inside the search's lag (up to
    /// 5 s), where the restarted run must wait before it looks up what the killed one left in flight.
    func passBefore(process: Int, startingCommand: Bool) {
        var random = SeededGenerator(seed: seed ^ UInt64(process) &* 0x9E37_79B9)
        let gap: Duration =
            startingCommand
            ? .seconds(3_600) : [.milliseconds(100), .seconds(1), .seconds(60)].randomElement(using: &random)!
        clock.advance(by: gap)
    }

    /// The emulator's "now": the wall clock at the schedule's start, moved by the manual clock.
    let emulatorClock: EmulatorClock
    /// The runs' clock: the manual clock for their waits, and for the journal's times the same
    /// wall clock as the emulator's.
    let runClock: RunClock
}

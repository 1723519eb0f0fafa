import Synchronization
import TestSupport

/// Answers that come too late, drawn request by request from the schedule's seed: the server
/// processed the request, and its answer came after the client's deadline — the client sees a
/// timeout (an ambiguous outcome, like a lost answer, through the transport's other error).
///
/// A request the server itself processes after the client's deadline is the same to the account,
/// provided the server has processed it, and its search shows it, by the time licprov looks it up
/// (what `--reconcile-delay` assumes). Later than that, it makes a duplicate no client can prevent
/// without idempotency keys: that is the assumption broken, not licprov. Drawing the server's
/// delay would need a clock the simulation owns (on real time a loaded machine stretches any delay
/// past the lookup), so only the sound case is drawn: processed, then answered late. (Tried: a
/// late request delivered just before the next request reached the server made duplicates
/// whenever the search lagged — the assumption broken, as expected.)
final class SlowNetwork: Sendable {
    private let probability: Double
    private struct State {
        var random: SeededGenerator
        var lateAnswers = 0
    }
    private let state: Mutex<State>
    /// Off while the faults are off (a schedule's clean runs).
    private let on = Atomic<Bool>(true)

    init(seed: UInt64, probability: Double) {
        self.probability = probability
        state = Mutex(State(random: SeededGenerator(seed: seed ^ 0x5105_5105_5105_5105)))
    }

    func turn(on: Bool) { self.on.store(on, ordering: .relaxed) }

    /// Whether the next request's answer comes after its deadline.
    func answersLate() -> Bool {
        guard probability > 0, on.load(ordering: .relaxed) else { return false }
        return state.withLock { state in
            guard Double.random(in: 0..<1, using: &state.random) < probability else { return false }
            state.lateAnswers += 1
            return true
        }
    }

    /// How many answers came late.
    var lateAnswers: Int { state.withLock { $0.lateAnswers } }
}

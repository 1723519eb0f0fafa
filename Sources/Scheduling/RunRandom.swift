/// Where a run's chance comes from — its backoff's jitter: the system's generator, or a source a
/// test or the simulation gives (drawn from its seed, so that a schedule replays).
package struct RunRandom: Sendable {
    private let draw: @Sendable () -> UInt64

    /// The system's generator (a run's).
    package static let system = RunRandom {
        var system = SystemRandomNumberGenerator()
        return system.next()
    }

    /// Numbers from `draw` (each call, the next).
    package init(_ draw: @escaping @Sendable () -> UInt64) { self.draw = draw }

    /// A generator that draws from this source.
    package var generator: Generator { Generator(draw: draw) }

    package struct Generator: RandomNumberGenerator {
        fileprivate let draw: @Sendable () -> UInt64

        package mutating func next() -> UInt64 { draw() }
    }
}

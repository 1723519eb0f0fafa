/// Decides, request by request, which fault (if any) to inject and how long to stall.
///
/// Count rules are consumed first, in order; then each probability rule is drawn in order from
/// one seeded generator, so a run with the same seed and the same request order sees the same
/// faults.
public actor FaultInjector {
    /// What to do to one request.
    public struct Plan: Sendable, Equatable {
        public var fault: Fault?
        public var delayMilliseconds: Int
        public var retryAfterSeconds: Int
        /// Held (see ``FaultHold``): wait while ``isHolding(_:)`` says so, at most `seconds`, then drop it.
        public var hold: (generation: Int, seconds: Int)?

        public static func == (left: Plan, right: Plan) -> Bool {
            left.fault == right.fault && left.delayMilliseconds == right.delayMilliseconds
                && left.retryAfterSeconds == right.retryAfterSeconds
                && left.hold?.generation == right.hold?.generation && left.hold?.seconds == right.hold?.seconds
        }
    }

    private var settings: FaultSettings
    private var generator: SplitMix64
    /// Which settings are in force (a hold lasts while they are), and how many requests their hold let through.
    private var generation = 0
    private var passedHold = 0

    public init(settings: FaultSettings = FaultSettings(), seed: UInt64) {
        self.settings = settings
        self.generator = SplitMix64(seed: seed)
    }

    /// The current settings, with count rules showing how many firings are left.
    public func current() -> FaultSettings { settings }

    /// Replaces every setting.
    public func replace(with newSettings: FaultSettings) {
        settings = newSettings
        generation += 1
        passedHold = 0
    }

    /// Whether the hold that `generation`'s settings put on a request still stands.
    public func isHolding(_ generation: Int) -> Bool { generation == self.generation }

    /// Draws the plan for one request.
    public func plan(method: String, path: String) -> Plan {
        if let hold = settings.hold, hold.matches(method: method, path: path) {
            if passedHold >= hold.after {
                return Plan(
                    fault: nil, delayMilliseconds: 0, retryAfterSeconds: settings.retryAfterSeconds,
                    hold: (generation, hold.seconds))
            }
            passedHold += 1
        }
        var chosen: Fault?
        if let index = settings.rules.firstIndex(where: {
            ($0.count ?? 0) > 0 && $0.matches(method: method, path: path)
        }) {
            chosen = settings.rules[index].fault
            settings.rules[index].count! -= 1
            if settings.rules[index].count == 0 { settings.rules.remove(at: index) }
        } else {
            for rule in settings.rules where rule.count == nil {
                guard let probability = rule.probability, rule.matches(method: method, path: path) else { continue }
                if generator.nextUnit() < probability {
                    chosen = rule.fault
                    break
                }
            }
        }
        var delay = settings.latencyMilliseconds
        if settings.jitterMilliseconds > 0 {
            delay += Int(generator.next() % UInt64(settings.jitterMilliseconds + 1))
        }
        return Plan(fault: chosen, delayMilliseconds: delay, retryAfterSeconds: settings.retryAfterSeconds, hold: nil)
    }
}

/// A small, fast, seedable generator (Steele, Lea and Flood's SplitMix64).
struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform double in 0..<1.
    mutating func nextUnit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}

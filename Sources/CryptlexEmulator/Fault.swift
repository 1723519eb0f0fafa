/// A failure the emulator can inject into a `/v3` request.
public enum Fault: String, Sendable, Codable, CaseIterable {
    /// 429 with `Retry-After` and a plain-text body, before the request is processed: a proxy or
    /// an account that refuses everything (the rate limit itself answers 429 on its own).
    case http429 = "429"
    /// 500 with a JSON error body, before the request is processed.
    case http500 = "500"
    /// 502 with an HTML body, as a load balancer sends it, before the request is processed.
    case http502 = "502"
    /// 503 with `Retry-After`, before the request is processed.
    case http503 = "503"
    /// 504 with an HTML body, after the request **was** processed (the gateway gave up waiting).
    case http504 = "504"
    /// The connection is reset (TCP RST) before the request is processed.
    case reset
    /// The request is processed (a license or user is created), then the connection is reset
    /// without a reply.
    case lostResponse = "lost-response"
}

/// One fault rule: which fault, how often, and for which requests.
///
/// A rule with `count` fires for the next `count` matching requests, then is spent; a rule with
/// `probability` fires at random (reproducible with the emulator's seed). `method` and `path`
/// narrow the rule to one route (`POST`, `/v3/users`; `*` stands for one segment: `/v3/licenses/*/renew`).
public struct FaultRule: Sendable, Codable, Equatable {
    public var fault: Fault
    public var probability: Double?
    public var count: Int?
    public var method: String?
    public var path: String?

    public init(fault: Fault, probability: Double? = nil, count: Int? = nil, method: String? = nil, path: String? = nil)
    {
        self.fault = fault
        self.probability = probability
        self.count = count
        self.method = method
        self.path = path
    }

    /// `path` may hold `*` for one segment: `/v3/licenses/*/renew`.
    func matches(method: String, path: String) -> Bool {
        (self.method.map { $0.uppercased() == method } ?? true)
            && (self.path.map { Self.path($0, matches: path) } ?? true)
    }

    static func path(_ pattern: String, matches path: String) -> Bool {
        guard pattern.contains("*") else { return pattern == path }
        let want = pattern.split(separator: "/", omittingEmptySubsequences: false)
        let have = path.split(separator: "/", omittingEmptySubsequences: false)
        return want.count == have.count && zip(want, have).allSatisfy { $0 == "*" || $0 == $1 }
    }
}

/// A server that stops answering after `after` matching requests: the ones after it wait,
/// unprocessed, until the fault settings change or `seconds` pass, and are then dropped (the
/// connection reset) — never processed, as a server that went away would. Stops a client at a
/// known point: a kill drill, or a test that must signal a run while it is still going.
public struct FaultHold: Sendable, Codable, Equatable {
    public var after: Int
    public var seconds: Int
    public var method: String?
    public var path: String?

    public init(after: Int, seconds: Int = 60, method: String? = nil, path: String? = nil) {
        self.after = after
        self.seconds = seconds
        self.method = method
        self.path = path
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        after = try container.decode(Int.self, forKey: .after)
        seconds = try container.decodeIfPresent(Int.self, forKey: .seconds) ?? 60
        method = try container.decodeIfPresent(String.self, forKey: .method)
        path = try container.decodeIfPresent(String.self, forKey: .path)
    }

    func matches(method: String, path: String) -> Bool {
        FaultRule(fault: .reset, method: self.method, path: self.path).matches(method: method, path: path)
    }
}

/// Every fault setting at once: the body of `PUT /__admin/faults` and of `GET /__admin/faults`.
public struct FaultSettings: Sendable, Codable, Equatable {
    public var rules: [FaultRule]
    /// Requests held after a number of them (see ``FaultHold``).
    public var hold: FaultHold?
    /// Latency added to every `/v3` request, in milliseconds.
    public var latencyMilliseconds: Int
    /// Random extra latency, uniform in 0…jitter, in milliseconds.
    public var jitterMilliseconds: Int
    /// The `Retry-After` a 503 fault carries, in seconds.
    public var retryAfterSeconds: Int

    /// How long a new license stays invisible to `GET /v3/licenses` (a search index that lags
    /// behind writes), in milliseconds. 0: visible at once.
    public var lookupLagMilliseconds: Int

    public init(
        rules: [FaultRule] = [], latencyMilliseconds: Int = 0, jitterMilliseconds: Int = 0, retryAfterSeconds: Int = 1,
        lookupLagMilliseconds: Int = 0, hold: FaultHold? = nil
    ) {
        self.lookupLagMilliseconds = lookupLagMilliseconds
        self.hold = hold
        self.rules = rules
        self.latencyMilliseconds = latencyMilliseconds
        self.jitterMilliseconds = jitterMilliseconds
        self.retryAfterSeconds = retryAfterSeconds
    }

    /// The allowed range of each setting; a value outside it is refused (400 on the admin route,
    /// exit 64 for a flag), never clamped and never allowed to overflow a timer.
    public static let millisecondsRange = 0...600_000
    public static let retryAfterRange = 0...86_400
    public static let countRange = 1...1_000_000_000

    /// Why these settings cannot be used, or nil when every value is in its range.
    public func problem() -> String? {
        for (name, value) in [
            ("latencyMilliseconds", latencyMilliseconds), ("jitterMilliseconds", jitterMilliseconds),
            ("lookupLagMilliseconds", lookupLagMilliseconds),
        ] where !Self.millisecondsRange.contains(value) {
            return "\(name) must be from 0 to \(Self.millisecondsRange.upperBound), not \(value)"
        }
        if !Self.retryAfterRange.contains(retryAfterSeconds) {
            return "retryAfterSeconds must be from 0 to \(Self.retryAfterRange.upperBound), not \(retryAfterSeconds)"
        }
        if let hold {
            if !(0...Self.countRange.upperBound).contains(hold.after) {
                return "hold.after must be from 0 to \(Self.countRange.upperBound), not \(hold.after)"
            }
            if !(1...600).contains(hold.seconds) { return "hold.seconds must be from 1 to 600, not \(hold.seconds)" }
        }
        for (index, rule) in rules.enumerated() {
            if let probability = rule.probability, !(0...1).contains(probability) {
                return "rules[\(index)].probability must be from 0 to 1, not \(probability)"
            }
            if let count = rule.count, !Self.countRange.contains(count) {
                return "rules[\(index)].count must be from 1 to \(Self.countRange.upperBound), not \(count)"
            }
            if rule.probability == nil && rule.count == nil {
                return "rules[\(index)] needs a probability (0…1) or a count"
            }
        }
        return nil
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        rules = try container.decodeIfPresent([FaultRule].self, forKey: .rules) ?? []
        latencyMilliseconds = try container.decodeIfPresent(Int.self, forKey: .latencyMilliseconds) ?? 0
        jitterMilliseconds = try container.decodeIfPresent(Int.self, forKey: .jitterMilliseconds) ?? 0
        lookupLagMilliseconds = try container.decodeIfPresent(Int.self, forKey: .lookupLagMilliseconds) ?? 0
        retryAfterSeconds = try container.decodeIfPresent(Int.self, forKey: .retryAfterSeconds) ?? 1
        hold = try container.decodeIfPresent(FaultHold.self, forKey: .hold)
    }
}

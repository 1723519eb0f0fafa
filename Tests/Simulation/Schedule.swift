import CryptlexEmulator
import TestSupport

/// One schedule of the simulation, drawn whole from its seed: the order file, how many workers,
/// the faults the emulator injects, and where each process is killed.
package struct Schedule: Sendable {
    package struct Row: Sendable {
        package var order: String
        package var email: String?
        package var quantity: Int
    }

    /// A process killed at its `atRequest`-th request: before the server saw it, or after the
    /// server processed it (its answer lost with the process).
    package struct Crash: Sendable {
        package var atRequest: Int
        package var afterProcessing: Bool
    }

    package var seed: UInt64
    package var rows: [Row]
    package var concurrency: Int
    package var faults: FaultSettings
    /// One per killed process, in order; the processes after them run to their end.
    package var crashes: [Crash]

    package init(seed: UInt64) {
        self.seed = seed
        var random = SeededGenerator(seed: seed)
        let count = Int.random(in: 1...12, using: &random)
        let customers = Int.random(in: 1...4, using: &random)
        rows = (1...count).map { index in
            Row(
                order: "O-\(index)",
                email: Bool.random(using: &random)
                    ? "c\(Int.random(in: 1...customers, using: &random))@example.com" : nil,
                quantity: Int.random(in: 0..<5, using: &random) == 0 ? 2 : 1)
        }
        // Mostly one worker (its order of requests is the seed's alone); some schedules with more.
        concurrency = Int.random(in: 0..<4, using: &random) == 0 ? Int.random(in: 2...4, using: &random) : 1
        var rules: [FaultRule] = []
        for fault in Fault.allCases where Int.random(in: 0..<3, using: &random) == 0 {
            rules.append(FaultRule(fault: fault, probability: Double.random(in: 0.05...0.3, using: &random)))
        }
        faults = FaultSettings(
            rules: rules, retryAfterSeconds: 0,
            lookupLagMilliseconds: Bool.random(using: &random) ? Int.random(in: 1...5, using: &random) : 0)
        let requests = rows.reduce(0) { $0 + $1.quantity } * 2 + 2
        crashes = (0..<Int.random(in: 0...3, using: &random)).map { _ in
            Crash(atRequest: Int.random(in: 1...requests, using: &random), afterProcessing: Bool.random(using: &random))
        }
    }

    /// The order file (CSV).
    var csv: String {
        "order_id,productId,quantity,email\n"
            + rows.map { "\($0.order),prod-1,\($0.quantity),\($0.email ?? "")\n" }.joined()
    }
}

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

    /// A change to one row's license, made once every row is created (by its `order_id`).
    package struct Change: Sendable {
        package enum Action: String, Sendable { case renew, suspend, update }
        package var event: String
        package var order: String
        package var action: Action
        /// The seats an update sets.
        package var activations: Int
    }

    package var seed: UInt64
    package var rows: [Row]
    package var changes: [Change]
    /// Kills of the processes that make the changes.
    package var changeCrashes: [Crash]
    package var concurrency: Int
    package var faults: FaultSettings
    /// List operators the server refuses (a quarter of the schedules refuse `in`: licprov falls
    /// back to one value a request).
    package var refusedOperators: Set<String>
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
        refusedOperators = Int.random(in: 0..<4, using: &random) == 0 ? ["in"] : []
        let requests = rows.reduce(0) { $0 + $1.quantity } * 2 + 2
        crashes = (0..<Int.random(in: 0...3, using: &random)).map { _ in
            Crash(atRequest: Int.random(in: 1...requests, using: &random), afterProcessing: Bool.random(using: &random))
        }
        // Half the schedules then change some licenses (rows of one license: a change names it by order id).
        var changes: [Change] = []
        if Bool.random(using: &random) {
            for row in rows where row.quantity == 1 && Bool.random(using: &random) {
                let action = [Change.Action.renew, .suspend, .update].randomElement(using: &random)!
                changes.append(
                    Change(
                        event: "E-\(changes.count + 1)", order: row.order, action: action,
                        activations: Int.random(in: 3...9, using: &random)))
            }
        }
        self.changes = changes
        let changeRequests = changes.count * 3 + 2
        changeCrashes =
            changes.isEmpty
            ? []
            : (0..<Int.random(in: 0...2, using: &random)).map { _ in
                Crash(
                    atRequest: Int.random(in: 1...changeRequests, using: &random),
                    afterProcessing: Bool.random(using: &random))
            }
    }

    /// The change file (CSV): one event a change, its license by the `order_id` it was created with.
    var changesCSV: String {
        "event_id,action,order_id,allowedActivations\n"
            + changes.map {
                "\($0.event),\($0.action.rawValue),\($0.order),\($0.action == .update ? String($0.activations) : "")\n"
            }.joined()
    }

    /// The order file (CSV).
    var csv: String {
        "order_id,productId,quantity,email,subscriptionInterval\n"
            + rows.map { "\($0.order),prod-1,\($0.quantity),\($0.email ?? ""),P1M\n" }.joined()
    }
}

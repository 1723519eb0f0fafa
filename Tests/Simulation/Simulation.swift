import Foundation
import TestSupport

/// The seeds of a run of many schedules, drawn from its base.
package struct SimulationSeeds {
    private var generator: SeededGenerator
    package init(base: UInt64) { generator = SeededGenerator(seed: base) }
    package mutating func next() -> UInt64 { generator.next() }
}

/// Many schedules, `jobs` at a time, and what they add up to.
package enum Simulation {
    package struct Report: Sendable {
        package var schedules = 0
        package var failures: [Simulator.Outcome] = []
        /// Schedules that saw each fault at least once.
        package var faultHits: [String: Int] = [:]
        package var killedBefore = 0
        package var killedAfter = 0
        package var concurrent = 0
        package var processes = 0
        /// Schedules that changed licenses after creating them, and those with customers.
        package var withChanges = 0
        package var withCustomers = 0
        package var refusingIn = 0
        package var withDirectories = 0
        package var undone = 0
        package var tokenRevoked = 0
        package var withLateRows = 0
        package var customerRaced = 0
        package var fileEdited = 0
        package var editedByHand = 0
        package var duplicated = 0
        package var deletedByHand = 0
        package var applied = 0

        mutating func add(_ outcome: Simulator.Outcome) {
            schedules += 1
            if !outcome.violations.isEmpty { failures.append(outcome) }
            for (fault, count) in outcome.faults where count > 0 { faultHits[fault, default: 0] += 1 }
            if outcome.kills.before > 0 { killedBefore += 1 }
            if outcome.kills.after > 0 { killedAfter += 1 }
            if outcome.concurrency > 1 { concurrent += 1 }
            if outcome.changes > 0 { withChanges += 1 }
            if outcome.customers > 0 { withCustomers += 1 }
            if outcome.refusesIn { refusingIn += 1 }
            if outcome.directories { withDirectories += 1 }
            if outcome.undo { undone += 1 }
            if outcome.tokenRevoked { tokenRevoked += 1 }
            if outcome.lateRows { withLateRows += 1 }
            if outcome.customerRaced { customerRaced += 1 }
            if outcome.fileEdited { fileEdited += 1 }
            if outcome.editedByHand { editedByHand += 1 }
            if outcome.duplicate { duplicated += 1 }
            if outcome.deletedByHand { deletedByHand += 1 }
            if outcome.applied { applied += 1 }
            processes += outcome.processes
        }

        package func summary(seconds: Double) -> String {
            func share(_ count: Int) -> String {
                String(format: "%.0f %%", Double(count) * 100 / Double(max(schedules, 1)))
            }
            var lines = [
                String(
                    format: "%d schedules in %.1f s (%.1f schedules/s), %d processes (%.1f a schedule)", schedules,
                    seconds, Double(schedules) / max(seconds, 0.001), processes,
                    Double(processes) / Double(max(schedules, 1)))
            ]
            lines.append(
                "killed before the server saw a request: \(share(killedBefore)) of schedules; after it processed one: "
                    + "\(share(killedAfter)); more than one worker: \(share(concurrent)); customers: "
                    + "\(share(withCustomers)); organizations or resellers: \(share(withDirectories)); changes after "
                    + "the creates (renew, suspend, update, revoke, set-expiry): \(share(withChanges)); the orders undone: \(share(undone)); "
                    + "a token revoked in a run: \(share(tokenRevoked)); rows appended to the file between runs: "
                    + "\(share(withLateRows)); rows edited or removed in the file between runs: \(share(fileEdited)); "
                    + "a customer created by another client just before licprov's create (409): \(share(customerRaced)); "
                    + "licenses edited by another client before the changes: \(share(editedByHand)); a duplicate made by another client, then audit --fix-duplicates: "
                    + "\(share(duplicated)); a license deleted by another client: \(share(deletedByHand)); the next night's export "
                    + "applied (plan, apply --prune delete): \(share(applied)); a server refusing `in` filters: "
                    + "\(share(refusingIn))")
            lines.append(
                "schedules that met each fault: "
                    + faultHits.sorted { $0.key < $1.key }.map { "\($0.key) \(share($0.value))" }.joined(
                        separator: ", "))
            return lines.joined(separator: "\n")
        }
    }

    package static func run(
        seeds: [UInt64], jobs: Int, simulator: Simulator, progress: @Sendable (Int) -> Void = { _ in }
    ) async -> Report {
        var report = Report()
        await withTaskGroup(of: Simulator.Outcome.self) { group in
            var next = 0
            for _ in 0..<min(jobs, seeds.count) {
                let seed = seeds[next]
                group.addTask { await simulator.run(Schedule(seed: seed)) }
                next += 1
            }
            while let outcome = await group.next() {
                report.add(outcome)
                progress(report.schedules)
                if next < seeds.count {
                    let seed = seeds[next]
                    group.addTask { await simulator.run(Schedule(seed: seed)) }
                    next += 1
                }
            }
        }
        return report
    }
}

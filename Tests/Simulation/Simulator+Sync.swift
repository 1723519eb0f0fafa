import CryptlexAPI
import CryptlexEmulator
import Foundation
import Ingestion
import Provisioning
import Scheduling
import Sync

extension Simulator.Processes {
    /// The next night: `licprov apply export.csv --id-column order_id --prune delete --yes`, each
    /// process planning against the account as it finds it (what the killed one did included),
    /// killed where `crashes` say and run again until settled. Then the account must equal the
    /// export — each row's licenses, its seats, the rows gone pruned — and a new plan be empty.
    mutating func apply(_ schedule: Schedule, crashes: [Schedule.Crash], violations: inout [String]) async -> [String] {
        guard let export = schedule.export else { return [] }
        let file = directory + "/export.csv"
        do {
            try schedule.exportCSV.write(toFile: file, atomically: true, encoding: .utf8)
        } catch {
            return ["the export could not be written: \(error)"]
        }
        trace.record("the next night's export: \(export.count) rows")
        let plan: Simulator.Planner = { client, configuration, stop in
            try await SyncPlanner.plan(
                configuration: Self.planConfiguration(
                    file, journal: configuration.journalPath, clock: configuration.clock, random: configuration.random),
                options: SyncPlanner.Options(prune: .delete, maxPrune: 1_000, journalPath: configuration.journalPath),
                client: client, stop: stop
            ).rows()
        }
        let applied = await settle(
            "export", crashes: crashes, faults: schedule.faults, plan: plan, violations: &violations
        ) {
            $0.ingest.idColumn = SyncPlan.syncIDColumn
            $0.ingest.keepIDAsMetadata = false
            $0.keepIDAsMetadata = false
        }
        var found = Simulator.settled("the apply", clean: applied.clean, rerun: applied.rerun)

        // The account as the export says.
        var byOrder: [String: [[String: JSONValue]]] = [:]
        for license in await server.emulator.store.allLicenses() {
            guard let fields = license.objectValue else { continue }
            byOrder[Simulator.metadata("order_id", of: fields) ?? "", default: []].append(fields)
        }
        for row in export {
            let licenses = byOrder.removeValue(forKey: row.order) ?? []
            if licenses.count != row.quantity {
                found.append("after the apply, \(row.order) has \(licenses.count) licenses, the export \(row.quantity)")
            }
            for license in licenses where license["allowedActivations"] != .int(Int64(row.activations ?? 0)) {
                found.append(
                    "after the apply, \(row.order)'s license has allowedActivations "
                        + "\(license["allowedActivations"].map { "\($0)" } ?? "none"), the export \(row.activations ?? 0)"
                )
            }
        }
        for (order, licenses) in byOrder {
            found.append("after the apply, \(licenses.count) licenses of \(order), which the export no longer has")
        }

        // A new plan finds nothing to do.
        let journal = applied.journal
        let clock = self.clock
        let random = self.random
        switch await readOnly(
            "plan", journal: journal,
            { client in
                try await SyncPlanner.plan(
                    configuration: Self.planConfiguration(file, journal: journal, clock: clock, random: random),
                    options: SyncPlanner.Options(prune: .delete, maxPrune: 1_000, journalPath: journal), client: client)
            })
        {
        case .success(let again):
            if !again.isEmpty {
                found.append("a plan after the apply is not empty: \(again.text.prefix(400).debugDescription)")
            }
        case .failure(let problem):
            found.append(problem.text)
        }
        return found
    }

    /// How `plan` and `apply` read the export: by `order_id`, the apply's journal beside.
    static func planConfiguration(_ file: String, journal: String, clock: RunClock, random: RunRandom)
        -> RunConfiguration
    {
        var configuration = RunConfiguration(
            inputPath: file, ingest: IngestOptions(idColumn: "order_id"), journalPath: journal)
        Simulator.useSimulationWaits(&configuration, clock: clock, random: random)
        return configuration
    }
}

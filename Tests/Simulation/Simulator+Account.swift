import Audit
import CryptlexAPI
import CryptlexEmulator
import Foundation
import Ingestion
import Provisioning

extension Simulator.Processes {
    /// `licprov audit` of a settled journal: the account must hold exactly what it recorded.
    mutating func audit(_ input: String, journal: String) async -> [String] {
        let process = count
        count += 1
        trace.record("process \(process) audit \(input)")
        let transport = SimulatedProcess(
            process: process, server: server, crash: nil, journalPath: journal, nextJournalPath: journal + ".unused",
            trace: trace, onKill: {})
        let configuration = configuration(input, journal: journal, results: directory + "/\(input)-audit.csv")
        let audit = Task {
            let client = CryptlexClient(
                baseURL: try CryptlexBaseURL("http://emulator.invalid"), token: Simulator.token, transport: transport,
                requestTimeout: .seconds(30))
            return try await JournalAudit.run(journalPath: journal, client: client, configuration: configuration)
        }
        switch await Simulator.result(of: audit, within: deadline) {
        case .success(let report)?:
            let findings = report.findings.filter { $0.kind != .ok }
            trace.record(
                "process \(process) audit: \(report.findings.count - findings.count) ok, \(findings.count) not")
            return findings.prefix(5).map {
                "the audit of \(input) finds \($0.kind.rawValue) \($0.rowID)/\($0.unit): \($0.detail)"
            }
        case .failure(let error)?:
            return ["the audit of \(input) failed: \(error)"]
        case nil:
            audit.cancel()
            return ["the audit of \(input) did not end within \(deadline) (a hang)"]
        }
    }

    /// `licprov undo` of the settled `journal`, killed where `crashes` say and run again until
    /// settled: every license it created must be gone, and its rerun send nothing.
    mutating func undo(
        _ input: String, journal: String, crashes: [Schedule.Crash], faults: FaultSettings, violations: inout [String]
    ) async -> [String] {
        let plan: UndoPlan
        do {
            plan = try UndoPlan.plan(journalPath: journal)
        } catch {
            return ["the undo of \(input) could not be planned: \(error)"]
        }
        trace.record("undo of \(input): \(plan.rows.count) rows")
        let base = directory + "/undo"
        let undone = await settle("undo", crashes: crashes, faults: faults, violations: &violations) {
            $0.derivedRows = DerivedRows(plan.rows)
            $0.inputPath = base
            $0.ingest.idColumn = UndoPlan.idColumn
            $0.ingest.keepIDAsMetadata = false
            $0.keepIDAsMetadata = false
        }
        var found = Simulator.settled("undo", clean: undone.clean, rerun: undone.rerun)
        let left = await server.emulator.store.allLicenses().count
        if left > 0 { found.append("the undo left \(left) of the \(plan.rows.count) licenses \(input) created") }
        return found
    }
}

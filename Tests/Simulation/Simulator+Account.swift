import Audit
import CryptlexAPI
import CryptlexEmulator
import Foundation
import Ingestion
import Provisioning
import Scheduling

extension Simulator.Processes {
    /// `licprov audit` of a settled journal: the account must hold exactly what it recorded.
    mutating func audit(_ input: String, journal: String) async -> [String] {
        switch await auditReport(input, journal: journal) {
        case .success(let report):
            return report.findings.filter { $0.kind != .ok }.prefix(5).map {
                "the audit of \(input) finds \($0.kind.rawValue) \($0.rowID)/\($0.unit): \($0.detail)"
            }
        case .failure(let problem):
            return [problem.text]
        }
    }

    /// What kept a read-only process from ending, as a violation.
    struct Problem: Error { var text: String }

    /// The audit's report, or what kept it from ending.
    mutating func auditReport(_ input: String, journal: String) async -> Result<JournalAudit.Report, Problem> {
        let configuration = configuration(input, journal: journal, results: directory + "/\(input)-audit.csv")
        let audited = await readOnly("audit \(input)", journal: journal) { client in
            try await JournalAudit.run(journalPath: journal, client: client, configuration: configuration)
        }
        if case .success(let report) = audited {
            let findings = report.findings.filter { $0.kind != .ok }
            trace.record("audit: \(report.findings.count - findings.count) ok, \(findings.count) not")
        }
        return audited
    }

    /// A process that only reads (an audit, a plan): its own client over a transport no kill
    /// stops, given the deadline; what it returned, or what kept it from ending.
    mutating func readOnly<T: Sendable>(
        _ what: String, journal: String, _ body: @escaping @Sendable (CryptlexClient) async throws -> T
    ) async -> Result<T, Problem> {
        let process = count
        count += 1
        time?.passBefore(process: process, startingCommand: true)
        trace.record("process \(process) \(what)")
        let transport = SimulatedProcess(
            process: process, server: server, crash: nil, journalPath: journal, nextJournalPath: journal + ".unused",
            trace: trace, writers: JournalWriters(), onKill: {})
        let task = Task.inheriting {
            try await body(
                CryptlexClient(
                    baseURL: try CryptlexBaseURL("http://emulator.invalid"), token: Simulator.token,
                    transport: transport, requestTimeout: .seconds(30)))
        }
        switch await Simulator.result(of: task, within: deadline) {
        case .success(let value)?:
            return .success(value)
        case .failure(let error)?:
            return .failure(Problem(text: "\(what) failed: \(error)"))
        case nil:
            task.cancel()
            return .failure(Problem(text: "\(what) did not end within \(deadline) (a hang)"))
        }
    }

    /// Another client copies the account's first license, marker and all (an older tool, a retry
    /// of someone's script); `audit` must find it, `audit --fix-duplicates` delete it alone — killed
    /// where `crashes` say and run again until settled — and `audit` find nothing after.
    mutating func duplicateAndFix(
        journal: String, crashes: [Schedule.Crash], faults: FaultSettings, violations: inout [String]
    ) async -> [String] {
        let store = server.emulator.store
        guard let original = await store.allLicenses().first?.objectValue,
            let originalID = original["id"]?.stringValue
        else { return [] }
        let copy: [String: JSONValue] = [
            "productId": original["productId"] ?? .null,
            "metadata": .array(
                (original["metadata"]?.arrayValue ?? []).map { entry in
                    .object(["key": entry.objectValue?["key"] ?? .null, "value": entry.objectValue?["value"] ?? .null])
                }),
        ]
        let made: JSONValue
        do {
            made = try await store.createLicense(copy, nowTicks: server.emulator.clock.nowTicks)
        } catch {
            return ["the duplicate could not be made: \(error)"]
        }
        let copyID = made.objectValue?["id"]?.stringValue ?? ""
        trace.record("another client copied license \(originalID) as \(copyID)")
        // Found, and only it: the audit before the fix must find one duplicate.
        let rows: [OrderRow]
        switch await auditReport("orders", journal: journal) {
        case .success(let report):
            let found = report.findings.filter { $0.kind != .ok }
            guard found.count == 1, found[0].kind == .duplicate, report.extraLicenses.map(\.licenseID) == [copyID]
            else {
                return [
                    "the audit after another client's copy finds "
                        + found.map { "\($0.kind.rawValue) \($0.licenseIDs)" }.joined(separator: ", ")
                        + ", not the copy \(copyID) alone"
                ]
            }
            rows = report.duplicateDeletions
        case .failure(let problem):
            return [problem.text]
        }
        let fixed = await settle("fix", crashes: crashes, faults: faults, violations: &violations) {
            $0.derivedRows = DerivedRows(rows)
            $0.inputPath = journal + ".fix"
            $0.ingest.idColumn = JournalAudit.Report.fixIDColumn
            $0.ingest.keepIDAsMetadata = false
            $0.keepIDAsMetadata = false
        }
        var found = Simulator.settled("fix", clean: fixed.clean, rerun: fixed.rerun)
        if (try? await store.license(id: copyID)) != nil { found.append("the fix left the copy \(copyID)") }
        if (try? await store.license(id: originalID)) == nil {
            found.append("the fix deleted the journal's \(originalID)")
        }
        return found + (found.isEmpty ? await audit("orders", journal: journal) : [])
    }

    /// Another client deletes the account's last license. The same command run again must send
    /// nothing (the journal has the row done: licprov does not make again what someone removed), and
    /// `audit` must report that one license missing, nothing else.
    /// (`conflicts`: the rows edited in the file after their license was made, which every run reports.)
    mutating func deletedByHand(journal: String, conflicts: Int, violations: inout [String]) async -> [String] {
        let store = server.emulator.store
        guard let victim = await store.allLicenses().last?.objectValue, let id = victim["id"]?.stringValue else {
            return []
        }
        do { try await store.deleteLicense(id: id) } catch { return ["the license could not be deleted: \(error)"] }
        trace.record("another client deleted license \(id)")
        let creates = await store.snapshot().licenseCreateRequests
        let again = await settle(
            "orders", crashes: [], faults: FaultSettings(), slowAnswers: false, journal: journal,
            violations: &violations
        ) { _ in }
        var found = Simulator.settled("orders, run again", clean: again.clean, rerun: again.rerun, conflicts: conflicts)
        let sent = await store.snapshot().licenseCreateRequests - creates
        if sent > 0 { found.append("the orders run again after a deletion by hand sent \(sent) creates") }
        switch await auditReport("orders", journal: journal) {
        case .success(let report):
            let other = report.findings.filter { $0.kind != .ok }
            if other.count != 1 || other.first?.kind != .missing {
                found.append(
                    "the audit after a deletion by hand finds "
                        + other.map { "\($0.kind.rawValue) \($0.rowID)/\($0.unit)" }.joined(separator: ", ")
                        + ", not the deleted license alone as missing")
            }
        case .failure(let problem):
            found.append(problem.text)
        }
        return found
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
        // Its results say each license deleted, whatever was lost on the way.
        if let results = undone.rerun?.results ?? undone.clean?.results {
            let statuses = Dictionary(
                Simulator.resultRows(results).map { ($0["row_id"] ?? "", $0["status"] ?? "") },
                uniquingKeysWith: { first, _ in first })
            for row in plan.rows where statuses[row.rowID] != "deleted" {
                found.append("the undo's results say \(row.rowID) \(statuses[row.rowID] ?? "missing"), not deleted")
            }
        }
        return found
    }
}

extension Simulator {
    /// Another client edits some change targets before the changes run (the schedule's hand edits):
    /// suspends a license, renews it, or sets its seats.
    static func editByHand(_ schedule: Schedule, emulator: CryptlexEmulator, trace: Trace) async {
        guard !schedule.handEdits.isEmpty else { return }
        var idsByOrder: [String: String] = [:]
        for license in await emulator.store.allLicenses() {
            guard let fields = license.objectValue, let order = metadata("order_id", of: fields),
                let id = fields["id"]?.stringValue
            else { continue }
            idsByOrder[order] = id
        }
        for change in schedule.changes {
            guard let edit = schedule.handEdits[change.event], let id = idsByOrder[change.order] else { continue }
            let now = emulator.clock.nowTicks
            do {
                switch edit {
                case .suspend:
                    _ = try await emulator.store.updateLicense(id: id, ["suspended": .bool(true)], nowTicks: now)
                case .renew: _ = try await emulator.store.renewLicense(id: id, nowTicks: now)
                case .seats(let seats):
                    _ = try await emulator.store.updateLicense(
                        id: id, ["allowedActivations": .int(Int64(seats))], nowTicks: now)
                }
                trace.record("another client edited \(change.order)'s license: \(edit)")
            } catch {
                trace.record("another client could not edit \(change.order)'s license: \(error)")
            }
        }
    }
}

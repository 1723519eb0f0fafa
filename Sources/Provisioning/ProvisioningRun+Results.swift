import APIRequests
import Foundation
import Ingestion
import Journal
import Results

/// The end of a run: the results file, the reasons licenses were not created, the summary line.
extension ProvisioningRun {
    /// The end of a run: the results file (written on a thread of its own: a journal's worth of
    /// reads and an fsync), the run's outcome in the journal, and the report.
    func finish(
        plan: RunPlan, journal: SQLiteJournal, runID: Int64, counts: RunCounts, toSettle: Int,
        started: ContinuousClock.Instant, settling: Duration, commits: Int
    ) async throws -> Report {
        var final = counts
        let (editedConflicts, reasons) = try await OwnThread.run("results") { [configuration] in
            try Self.writeResults(plan: plan, journal: journal, configuration: configuration)
        }
        final.conflicts += editedConflicts
        final.rejected += plan.invalidRows
        final.skipped = plan.skipped
        var report = Report(
            ending: stop.reason.map { .stopped($0) } ?? .finished, counts: final, summary: plan.summary,
            problems: plan.summary.fileDiagnostics + plan.problems, licenses: plan.summary.licenses, toSettle: toSettle,
            resultsPath: configuration.resultsPath, journalPath: configuration.journalPath, elapsed: .zero,
            settling: settling, commits: commits)
        report.parts = plan.parts
        report.failureReasons = reasons.map { (reason: $0.key, count: $0.value) }.sorted {
            ($0.count, $1.reason) > ($1.count, $0.reason)
        }
        try journal.endRun(runID, outcome: report.outcome, summary: RunSummaryText.line(final))
        report.elapsed = ContinuousClock.now - started
        return report
    }

    /// Writes the results file in file order; returns the settled entries whose row changed since
    /// (conflicts) and the licenses not created, grouped by reason.
    static func writeResults(plan: RunPlan, journal: SQLiteJournal, configuration: RunConfiguration) throws -> (
        Int, [String: Int]
    ) {
        let mine = plan.entryIDs
        let rejected = plan.rejectedLines
        var nextRejected = 0
        // Derived rows have no file to read their cells from: their results are in the standard layout.
        let input =
            configuration.resultsColumns == .input && configuration.derivedRows == nil
            ? try InputCells.read(path: configuration.inputPath, options: configuration.ingest) : nil
        let writer = try ResultsFile.Writer(
            path: configuration.resultsPath,
            header: input.map { $0.header + ["status", "license_key", "license_id", "message"] } ?? ResultsFile.header)
        func write(_ line: ResultsFile.Line) throws {
            guard let input else { return try writer.append(line) }
            var cells = input.byLine[line.sourceLine] ?? []
            cells += Array(repeating: "", count: max(0, input.header.count - cells.count))
            try writer.append(
                cells: Array(cells.prefix(input.header.count)) + [
                    line.status, line.licenseKey ?? "", line.licenseID ?? "", line.message ?? "",
                ])
        }
        var reasons: [String: Int] = [:]
        var conflicts = 0
        let invalid = rejected.count { $0.status != "skipped" }
        if invalid > 0 { reasons["invalid row (see validate)"] = invalid }
        let directory = try journal.directoryIDs()
        try journal.forEachEntry(operations: .whenEdited) { entry in
            guard mine.contains(entry.id) else { return }
            while nextRejected < rejected.count, rejected[nextRejected].sourceLine < entry.sourceLine {
                try write(rejected[nextRejected])
                nextRejected += 1
            }
            if entry.state.isSettled && entry.editedOperation != nil { conflicts += 1 }
            switch entry.state {
            case .failed, .rejected, .conflict, .unresolved:
                reasons[FailureReason.of(status: entry.httpStatus, message: entry.error), default: 0] += 1
            case .pending, .inFlight, .created, .recovered: break
            }
            try write(ResultsLines.line(for: entry, markerKey: configuration.markerKey, directory: directory))
        }
        for line in rejected[nextRejected...] { try write(line) }
        try writer.commit()
        return (conflicts, reasons)
    }
}

/// One line of counts, for the journal's run table and logs.
enum RunSummaryText {
    static func line(_ counts: RunCounts) -> String {
        "created \(counts.created), \(counts.changed > 0 ? "changed \(counts.changed), " : "")\(counts.unchanged > 0 ? "unchanged \(counts.unchanged), " : "")recovered \(counts.recovered), already done \(counts.alreadyDone), failed \(counts.failed), "
            + "rejected \(counts.rejected), conflicts \(counts.conflicts), unresolved \(counts.unresolved), not sent \(counts.notSent), "
            + "requests \(counts.requests), lookups \(counts.lookups), 429s \(counts.tooManyRequests), retries \(counts.retries)"
    }
}

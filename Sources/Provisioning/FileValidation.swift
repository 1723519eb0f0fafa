import FileFormats
import Ingestion

/// The `validate` use case: read a whole order file, map and check every row, send nothing.
package enum FileValidation {
    /// Everything `licprov validate` reports.
    package struct Report: Sendable {
        package var summary: IngestSummary
        /// The problems, file-level first then row by row, at most `limit` of them.
        package var listed: [Diagnostic]
        /// All problems, listed or not.
        package var total: Int
        /// Why rows were skipped, with how many each (most first): `pending: provisioned once paid`.
        package var skipReasons: [(reason: String, rows: Int)] = []
    }

    /// Reads `path` with `options`; lists at most `limit` problems (0: no limit).
    ///
    /// Throws ``IngestionError`` when the file cannot be read at all.
    package static func validate(path: String, options: IngestOptions, limit: Int) throws -> Report {
        let reader = try OrderFileReader(path: path, options: options)
        var rowProblems: [Diagnostic] = []
        var rowProblemCount = 0
        var skipped: [String: Int] = [:]
        let summary = try reader.read { row in
            if let reason = row.skipped { skipped[reason, default: 0] += 1 }
            rowProblemCount += row.diagnostics.count
            for diagnostic in row.diagnostics where limit == 0 || rowProblems.count < limit {
                rowProblems.append(diagnostic)
            }
        }
        let all = summary.fileDiagnostics + rowProblems
        let total = summary.fileDiagnostics.count + rowProblemCount
        return Report(
            summary: summary, listed: limit == 0 ? all : Array(all.prefix(limit)), total: total,
            skipReasons: skipped.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.map { ($0.key, $0.value) })
    }
}

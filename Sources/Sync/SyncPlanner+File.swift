import CryptlexModels
import Foundation
import Ingestion
import Provisioning

/// The file side of a plan: rows read, checked and kept small.
extension SyncPlanner {
    /// Reads and checks the file; every row must be valid and a create row. Returns the rows and
    /// the body fields any row has (what the account's licenses are compared on).
    static func readFile(_ configuration: RunConfiguration) throws -> (
        rows: [Wanted], columns: Set<String>, skipped: [SyncPlan.Skipped], warnings: [String]
    ) {
        var ingest = configuration.ingest
        ingest.markerKey = configuration.markerKey
        ingest.keepIDAsMetadata = false
        let reader = try OrderFileReader(path: configuration.inputPath, options: ingest)
        var wanted: [Wanted] = []
        var columns = Set<String>()
        var problems: [Diagnostic] = []
        let idColumn = ingest.idColumn ?? ""
        var skipped: [SyncPlan.Skipped] = []
        var warnings: [String] = []
        let summary = try reader.read { row in
            if let reason = row.skipped {
                skipped.append(SyncPlan.Skipped(order: row.rowID, sourceLine: row.position.line, reason: reason))
                return
            }
            problems += row.diagnostics.filter { $0.severity == .error }
            for warning in row.diagnostics where warning.severity == .warning {
                warnings.append(
                    "\(row.rowID) (line \(warning.line)): \(warning.field.map { "\($0): " } ?? "")\(warning.message)")
            }
            if row.isValid, row.action != .create {
                problems.append(
                    Diagnostic(
                        file: configuration.inputPath, line: row.position.line, field: "action",
                        message:
                            "plan reads a file of orders as they should be, not of actions: leave out the action column (a refund is revoked = true)"
                    ))
            }
            if row.isValid, !row.idIsFromColumn {
                problems.append(
                    Diagnostic(
                        file: configuration.inputPath, line: row.position.line, field: idColumn,
                        message: "is empty; plan finds a row's licenses by it"))
            }
            guard row.isValid, row.action == .create, row.idIsFromColumn else { return }
            let body = row.request.canonicalJSON
            // Every row's: a field only some rows set (revoked, on refunds) is compared on those.
            for name in (LicenseFields.decode(body) ?? [:]).keys where !notCompared.contains(name) || name == "metadata"
            { columns.insert(name) }
            wanted.append(
                Wanted(
                    order: row.rowID, line: row.position.line, quantity: row.quantity, productId: row.request.productId,
                    body: body, owners: Owners(row), ended: row.request.revoked == true))
        }
        problems += summary.fileDiagnostics.filter { $0.severity == .error }
        if !problems.isEmpty { throw InvalidFile(problems: problems, summary: summary) }
        return (wanted, columns, skipped, warnings)
    }
}

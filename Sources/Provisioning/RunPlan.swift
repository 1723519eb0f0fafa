import CryptlexAPI
import Foundation
import Ingestion
import Journal

/// What a run has to do, decided by reading the whole file against the journal before anything
/// is sent: new rows get an intent (with a fresh marker), known rows are matched by row id and
/// unit and compared by fingerprint.
///
/// | Journal has the row… | same fingerprint | different fingerprint (edited in the file) |
/// |---|---|---|
/// | not at all | — | new intent, pending |
/// | pending or failed | send it | new body (same marker), send it |
/// | in flight (a run crashed) | look it up first | look it up with the old marker; nothing found → send the new body |
/// | created or recovered | nothing | nothing sent; reported as a conflict showing both versions |
/// | rejected, conflict or unresolved | nothing (it would fail the same way) | new body, send it |
struct RunPlan {
    /// What validation found.
    var summary = IngestSummary()
    /// Every row problem, in file order (file-level problems are in ``summary``).
    var problems: [Diagnostic] = []
    /// The invalid rows, as results lines (they are not journaled).
    var rejectedLines: [ResultsFile.Line] = []
    /// Journal entries that belong to the file's valid rows.
    var entryIDs: [Int64] = []
    /// Their key and product, for lookups.
    var facts: [Int64: (key: String?, productId: String)] = [:]
    /// Entries in flight whose row changed: the new body to send if the lookup finds nothing.
    var replacements: [Int64: (body: [UInt8], bodyHash: String)] = [:]
    /// New entries to register.
    var intents: [Intent] = []
    var intentFacts: [(key: String?, productId: String)] = []
    /// Changes to known entries.
    var changes: [EntryChange] = []
    /// Licenses a previous run settled that are unchanged.
    var alreadyDone = 0
    /// Settled licenses whose row was edited since.
    var edited = 0

    /// True when the file has errors that stop a run without `--skip-invalid`.
    var hasErrors: Bool { summary.errors > 0 }
}

/// Builds a ``RunPlan``.
struct RunPlanner {
    let configuration: RunConfiguration
    let journal: SQLiteJournal

    private struct RowUnit: Hashable {
        var rowID: String
        var unit: Int
    }

    func plan() throws -> RunPlan {
        var known: [RowUnit: EntryDigest] = [:]
        for digest in try journal.digests() { known[RowUnit(rowID: digest.rowID, unit: digest.unit)] = digest }
        var plan = RunPlan()
        var seen = Set<RowUnit>()
        let markerKey = configuration.markerKey
        let reader = try OrderFileReader(path: configuration.inputPath, options: configuration.ingest)
        var runErrors = 0, invalidated = 0, invalidatedLicenses = 0
        plan.summary = try reader.read { row in
            var row = row
            let wasValid = row.isValid
            let errorsBefore = row.diagnostics.count
            checkForRun(&row, file: reader.path == "-" ? "<stdin>" : reader.path)
            if row.diagnostics.count > errorsBefore {
                runErrors += row.diagnostics.count - errorsBefore
                if wasValid { invalidated += 1; invalidatedLicenses += row.quantity }
            }
            plan.problems += row.diagnostics.filter { $0.severity == .error }
            guard row.isValid else {
                plan.rejectedLines.append(ResultsFile.Line(
                    sourceLine: row.position.line, rowID: row.rowID, unit: 1, status: "rejected",
                    message: row.diagnostics.filter { $0.severity == .error }.map { "\($0.field.map { "\($0): " } ?? "")\($0.message)" }.joined(separator: "; ")))
                return
            }
            let body = CryptlexClient.encodedBody(row.request)
            let hash = BodyFingerprint.of(body)
            let facts = (key: row.request.key, productId: row.request.productId)
            for unit in 1...max(1, row.quantity) {
                let id = RowUnit(rowID: row.rowID, unit: unit)
                guard seen.insert(id).inserted else { continue }
                guard let digest = known[id] else {
                    let marker = UUID().uuidString.lowercased()
                    plan.intents.append(Intent(rowID: row.rowID, unit: unit, sourceLine: row.position.line,
                                               body: Self.body(row.request, markerKey: markerKey, marker: marker), bodyHash: hash, marker: marker))
                    plan.intentFacts.append(facts)
                    continue
                }
                plan.entryIDs.append(digest.id)
                plan.facts[digest.id] = facts
                if digest.sourceLine != row.position.line { plan.changes.append(.moveTo(id: digest.id, sourceLine: row.position.line)) }
                if digest.bodyHash == hash {
                    if digest.state.isSettled { plan.alreadyDone += 1 }
                    if digest.editedHash != nil { plan.changes.append(.noteEdit(id: digest.id, body: nil, bodyHash: nil)) }
                    continue
                }
                let newBody = Self.body(row.request, markerKey: markerKey, marker: digest.marker)
                switch digest.state {
                case .created, .recovered:
                    plan.edited += 1
                    if digest.editedHash != hash { plan.changes.append(.noteEdit(id: digest.id, body: body, bodyHash: hash)) }
                case .inFlight:
                    plan.replacements[digest.id] = (newBody, hash)
                case .pending, .failed, .rejected, .conflict, .unresolved:
                    plan.changes.append(.replaceBody(id: digest.id, body: newBody, bodyHash: hash, state: .pending, error: nil))
                }
            }
        }
        plan.summary.errors += runErrors
        plan.summary.validRows -= invalidated
        plan.summary.licenses -= invalidatedLicenses
        return plan
    }

    /// What only a run checks: room for the marker, and columns the run cannot honour yet.
    private func checkForRun(_ row: inout OrderRow, file: String) {
        let line = row.position.line
        if let markerKey = configuration.markerKey {
            let metadata = row.request.metadata ?? []
            if metadata.count >= 50 {
                row.diagnostics.append(Diagnostic(file: file, line: line, field: "metadata",
                    message: "\(metadata.count) metadata entries leave no room for licprov's marker (\(markerKey)); at most 49, or run with --no-marker"))
            }
            if metadata.contains(where: { $0.key == markerKey }) {
                row.diagnostics.append(Diagnostic(file: file, line: line, field: "metadata.\(markerKey)",
                    message: "this metadata key is licprov's marker; rename the column, or choose another marker with --marker-key"))
            }
        }
        if row.customer != nil {
            row.diagnostics.append(Diagnostic(file: file, line: line, field: "email",
                message: "linking licenses to customers by email is not supported yet; remove the customer columns (email, firstName, lastName, company) to create the licenses without owners"))
        }
    }

    /// The body to send: the row's request plus the marker entry.
    static func body(_ request: LicenseRequest, markerKey: String?, marker: String) -> [UInt8] {
        guard let markerKey else { return CryptlexClient.encodedBody(request) }
        var marked = request
        marked.metadata = (request.metadata ?? []) + [LicenseMetadata(key: markerKey, value: marker)]
        return CryptlexClient.encodedBody(marked)
    }
}

import CryptlexModels
import Foundation
import Journal

/// Turns journal entries into results lines: the same words in `run`'s results and in `export`.
///
/// | Entry | status |
/// |---|---|
/// | created / recovered | `created` / `recovered` (license id and key filled in) |
/// | created, row edited since | `conflict` (the existing license, and what changed) |
/// | failed / rejected / conflict / unresolved | the same word, with the error |
/// | pending | `not sent` |
/// | inFlight | `unknown` (looked up on the next run) |
/// | a change, applied | what it did: `updated`, `renewed`, `expiry set`, `suspended`, `unsuspended`, `revoked`, `unrevoked`, `deleted` |
///
/// The `action` column says what the row asked for; `expires_at`, the expiry a renew or set-expiry
/// left; `organization_id` and `reseller_id`, the ids the row's organization and reseller resolved
/// to (`directory`: ``SQLiteJournal/directoryIDs()``).
package enum ResultsLines {
    package static func line(for entry: JournalEntry, markerKey: String?, directory: [Int64: String] = [:])
        -> ResultsFile.Line
    {
        var line = ResultsFile.Line(
            sourceLine: entry.sourceLine, rowID: entry.rowID, unit: entry.unit, status: entry.state.rawValue,
            licenseID: entry.licenseID, licenseKey: entry.licenseKey, httpStatus: entry.httpStatus,
            message: entry.error,
            action: entry.action, expiresAt: entry.afterExpiry)
        line.organizationID = entry.organizationRef.flatMap { directory[$0] }
        line.resellerID = entry.resellerRef.flatMap { directory[$0] }
        let isChange = entry.action.isChange
        let noun = isChange ? "change" : "license"
        switch entry.state {
        case .created, .recovered:
            if isChange {
                // Its message says what was found (a license already gone); a create's, an earlier attempt.
                line.status = done(by: entry.action)
                if entry.state == .recovered {
                    line.message =
                        "the answer was lost; reading the license showed the change had been applied (not sent again)"
                }
            } else {
                line.message = nil
            }
            if let edited = entry.editedOperation {
                line.status = "conflict"
                line.message =
                    isChange
                    ? "the row changed after its change was applied, so nothing more was sent; use a new row id for a new change"
                    : "the row changed after its license was created, so nothing was sent; to apply the change, edit the license in Cryptlex. Changed: "
                        + BodyDiff.describe(sent: entry.operation, file: edited, markerKey: markerKey)
            }
        case .pending:
            line.status = "not sent"
            if line.message == nil {
                line.message = "the run stopped before this \(noun) was sent; run the same command again"
            }
        case .inFlight:
            line.status = "unknown"
            line.message =
                isChange
                ? "the change may have been applied; the next run reads the license before sending anything"
                : "the request may have created the license; the next run looks it up before sending anything"
        case .failed, .rejected, .conflict, .unresolved:
            break
        }
        return line
    }

    /// What a change that was applied did, for the status column.
    package static func done(by action: LicenseAction) -> String {
        switch action {
        case .create: "created"
        case .update: "updated"
        case .renew: "renewed"
        case .setExpiry: "expiry set"
        case .suspend: "suspended"
        case .unsuspend: "unsuspended"
        case .revoke: "revoked"
        case .unrevoke: "unrevoked"
        case .delete: "deleted"
        }
    }
}

/// What differs between the operation a license was created with and the row's current one.
package enum BodyDiff {
    package static func describe(sent: LicenseOperation?, file: LicenseOperation, markerKey: String?) -> String {
        guard let sent else { return "(the operations cannot be compared)" }
        let old = withoutMarker(sent.fields, markerKey: markerKey)
        let new = withoutMarker(file.fields, markerKey: markerKey)
        var parts: [String] = []
        for key in Set(old.keys).union(new.keys).sorted() {
            let before = old[key].map(text) ?? "(none)"
            let after = new[key].map(text) ?? "(none)"
            if before != after { parts.append("\(key) \(before) → \(after)") }
        }
        return parts.isEmpty ? "(nothing)" : parts.joined(separator: "; ")
    }

    private static func withoutMarker(_ fields: [String: JSONAny], markerKey: String?) -> [String: JSONAny] {
        guard let markerKey, case .array(let entries)? = fields["metadata"] else { return fields }
        var fields = fields
        let kept = entries.filter {
            if case .object(let entry) = $0 { entry["key"] != .string(markerKey) } else { true }
        }
        fields["metadata"] = kept.isEmpty ? nil : .array(kept)
        return fields
    }

    private static func text(_ value: JSONAny) -> String {
        if case .string(let string) = value { return string }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "?"
    }
}

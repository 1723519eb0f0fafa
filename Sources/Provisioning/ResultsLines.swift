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
enum ResultsLines {
    static func line(for entry: JournalEntry, markerKey: String?, directory: [Int64: String] = [:]) -> ResultsFile.Line {
        var line = ResultsFile.Line(sourceLine: entry.sourceLine, rowID: entry.rowID, unit: entry.unit, status: entry.state.rawValue,
                                    licenseID: entry.licenseID, licenseKey: entry.licenseKey, httpStatus: entry.httpStatus, message: entry.error,
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
                    line.message = "the answer was lost; reading the license showed the change had been applied (not sent again)"
                }
            } else {
                line.message = nil
            }
            if let edited = entry.editedBody {
                line.status = "conflict"
                line.message = isChange
                    ? "the row changed after its change was applied, so nothing more was sent; use a new row id for a new change"
                    : "the row changed after its license was created, so nothing was sent; to apply the change, edit the license in Cryptlex. Changed: "
                        + BodyDiff.describe(sent: entry.body, file: edited, markerKey: markerKey)
            }
        case .pending:
            line.status = "not sent"
            if line.message == nil { line.message = "the run stopped before this \(noun) was sent; run the same command again" }
        case .inFlight:
            line.status = "unknown"
            line.message = isChange
                ? "the change may have been applied; the next run reads the license before sending anything"
                : "the request may have created the license; the next run looks it up before sending anything"
        case .failed, .rejected, .conflict, .unresolved:
            break
        }
        return line
    }

    /// What a change that was applied did, for the status column.
    static func done(by action: LicenseAction) -> String {
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

/// What differs between the body a license was created with and the row's current body.
enum BodyDiff {
    static func describe(sent: [UInt8], file: [UInt8], markerKey: String?) -> String {
        guard var old = (try? JSONSerialization.jsonObject(with: Data(sent))) as? [String: Any],
              var new = (try? JSONSerialization.jsonObject(with: Data(file))) as? [String: Any] else {
            return "(the bodies cannot be compared)"
        }
        if let markerKey {
            old["metadata"] = (old["metadata"] as? [[String: Any]])?.filter { $0["key"] as? String != markerKey }
            if (old["metadata"] as? [[String: Any]])?.isEmpty == true { old["metadata"] = nil }
            new["metadata"] = (new["metadata"] as? [[String: Any]])?.filter { $0["key"] as? String != markerKey }
            if (new["metadata"] as? [[String: Any]])?.isEmpty == true { new["metadata"] = nil }
        }
        var parts: [String] = []
        for key in Set(old.keys).union(new.keys).sorted() {
            let before = old[key].map(text) ?? "(none)"
            let after = new[key].map(text) ?? "(none)"
            if before != after { parts.append("\(key) \(before) → \(after)") }
        }
        return parts.isEmpty ? "(nothing)" : parts.joined(separator: "; ")
    }

    private static func text(_ value: Any) -> String {
        if let string = value as? String { return string }
        if JSONSerialization.isValidJSONObject(value),
           let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes]) {
            return String(decoding: data, as: UTF8.self)
        }
        return "\(value)"
    }
}

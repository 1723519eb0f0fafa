import CryptlexAPI
import CryptlexModels
import Foundation
import Ingestion
import Journal
import Provisioning

/// `licprov undo`: what reverses what a journal (or one of its runs) did, as typed rows of changes
/// that licprov then runs like a file's — journaled, exactly once, resumable — with a journal of its own.
///
/// - A license the journal created is deleted (`mode` `revoke`: revoked instead, for accounts whose
///   customers may have activated it). Its changes need no reverting.
/// - A change to a license the journal did not create is reverted from its before-state: per
///   license, each field back to its value before the journal's *first* change of it — an update
///   (`update` row with those fields; it also covers suspend, unsuspend, revoke, unrevoke), an
///   expiry (`set-expiry` row: a renewal is undone by setting the expiry back).
/// - A deletion cannot be undone (Cryptlex has no undelete): reported, not attempted.
///
/// Every row names its license by `licenseId`, recorded by this journal: licenses the journal did
/// not make or change are never touched. Row ids are derived from the journal's entries, so the
/// same undo planned again is the same rows, and its journal sends nothing the second time.
package struct UndoPlan: Sendable {
    package enum Mode: String, Sendable, CaseIterable {
        case delete, revoke

        var action: LicenseAction { self == .delete ? .delete : .revoke }
    }

    /// The undo's rows, typed: each names its license by id, with the fields to restore.
    package var rows: [OrderRow] = []
    /// What cannot be undone, one line each (deleted licenses).
    package var irreversible: [String] = []
    /// Fields that cannot be put back (they were absent before; PATCH cannot remove a field).
    package var notRestorable: [String] = []
    package var licensesToRemove = 0
    package var changesToRevert = 0

    package static let idColumn = "undo_id"

    /// Plans the undo of the journal at `journalPath` (which must exist); `run` limits it to the
    /// entries one run sent.
    package static func plan(journalPath: String, run: Int64? = nil, mode: Mode = .delete) throws -> UndoPlan {
        let journal = try JournalReport.open(journalPath)
        let inRun: Set<Int64>? = try run.map { try Set(journal.entriesAttempted(inRun: $0)) }
        var plan = UndoPlan()
        var created = Set<String>()
        var changes: [String: [JournalEntry]] = [:]
        var entries: [JournalEntry] = []
        try journal.forEachEntry(operations: .none) { entries.append($0) }
        for entry in entries where entry.state.isSettled && (inRun?.contains(entry.id) ?? true) {
            guard let id = entry.licenseID else { continue }
            if entry.action == .create {
                created.insert(id)
            } else {
                changes[id, default: []].append(entry)
            }
        }
        // Licenses this journal deleted afterwards are gone either way.
        let deleted = Set(changes.filter { $0.value.contains { $0.action == .delete } }.keys)
        for entry in entries
        where entry.action == .create && entry.state.isSettled && (inRun?.contains(entry.id) ?? true) {
            guard let id = entry.licenseID, !deleted.contains(id) else { continue }
            plan.rows.append(
                .derivedChange(rowID: "undo-\(entry.id)", line: plan.rows.count + 1, licenseID: id, action: mode.action)
            )
            plan.licensesToRemove += 1
        }
        for (id, applied) in changes.sorted(by: { $0.key < $1.key }) where !created.contains(id) {
            let ordered = applied.sorted { $0.id < $1.id }
            if let deletion = ordered.first(where: { $0.action == .delete }) {
                plan.irreversible.append(
                    "license \(id): deleted by row \(deletion.rowID) (line \(deletion.sourceLine)); Cryptlex cannot undelete, "
                        + "its fields before were: \(deletion.beforeState ?? "{}")")
                continue
            }
            // Each field's value before the journal first changed it.
            var restore: [String: JSONAny] = [:]
            var firstEntry: [String: Int64] = [:]
            for change in ordered {
                for (name, value) in LicenseFields.decode(change.beforeState ?? "{}") ?? [:] where restore[name] == nil
                {
                    restore[name] = value
                    firstEntry[name] = change.id
                }
            }
            if let expiry = restore.removeValue(forKey: "expiresAt") {
                let change: ExpiryChange = if case .string(let date) = expiry { .date(date) } else { .perpetual }
                plan.rows.append(
                    .derivedChange(
                        rowID: "undo-\(firstEntry["expiresAt"]!)-expiry", line: plan.rows.count + 1, licenseID: id,
                        action: .setExpiry, expiry: change))
                plan.changesToRevert += 1
            }
            let absent = restore.filter { $0.value == .null }.keys.sorted()
            for name in absent {
                restore[name] = nil
                plan.notRestorable.append("license \(id): \(name) had no value before; a PATCH cannot remove it")
            }
            if !restore.isEmpty {
                plan.rows.append(
                    .derivedChange(
                        rowID: "undo-\(firstEntry.values.min()!)", line: plan.rows.count + 1, licenseID: id,
                        action: .update, fields: restore))
                plan.changesToRevert += 1
            }
        }
        return plan
    }
}

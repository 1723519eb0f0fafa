import CryptlexModels
import Foundation
import Ingestion
import Provisioning

/// What `licprov plan` found between a file that is the desired state and the account's managed
/// licenses (those carrying the id column's metadata entry on the file's products), and what
/// `licprov apply` would send to make the account equal the file.
///
/// Every step is a row of a derived run (``rows()``): the same journaled, exactly-once machinery
/// as `run` (markers for creates, read-and-compare for changes). A step's row id is stable across
/// plans of the same state — a create by its order and unit, a change by its license and the
/// license's `updatedAt` — so an apply killed and planned again resumes in its journal instead of
/// sending twice, and the same change asked for again after the license moved is a new row.
package struct SyncPlan: Codable, Sendable, Equatable {
    /// One change to one license (or one license to create).
    package struct Step: Codable, Sendable, Equatable {
        package enum Kind: String, Codable, Sendable, CaseIterable {
            case create, update, revoke, unrevoke, suspend, unsuspend
            case setExpiry = "set-expiry"
            case delete

            /// The action a run of this step takes.
            package var action: LicenseAction {
                switch self {
                case .create: .create
                case .update: .update
                case .revoke: .revoke
                case .unrevoke: .unrevoke
                case .suspend: .suspend
                case .unsuspend: .unsuspend
                case .setExpiry: .setExpiry
                case .delete: .delete
                }
            }
        }

        package var kind: Kind
        /// The order (the id column's value).
        package var order: String
        /// The file's line (nil for a prune: no row names the license).
        package var sourceLine: Int?
        /// The license changed (nil for a create).
        package var licenseID: String?
        /// A create: which of the row's `quantity` licenses.
        package var unit: Int?
        /// The fields a change sets: name, the account's value, the file's.
        package var fields: [FieldChange] = []
        /// A create's request as it is sent (the order id among its metadata; the run adds its marker).
        package var request: LicenseRequest?
        /// A create's customer; an update that links the license to another customer: that one.
        package var customer: Customer?
        /// A create's organization and reseller (found or created by name, as a file's are).
        package var organization: OrganizationRequest?
        package var reseller: ResellerRequest?
        /// A prune: no row of the file names the license.
        package var prune = false
        /// The license's `updatedAt` when it was read (a change's row id; a saved plan's staleness).
        package var licenseUpdatedAt: String?
        /// With the apply's journal: true when the file still says what licprov last applied, so the
        /// account changed (drift, restored); false when the file changed; nil when licprov never
        /// applied anything to the license.
        package var drift: Bool?
        /// A create: how many licenses the order had when planned (a saved plan's staleness).
        package var existing: Int?

        /// The derived run's row id (see the type's comment).
        package var syncID: String {
            switch kind {
            case .create: "create:\(order):\(unit ?? 1)"
            default: "\(kind.rawValue):\(licenseID ?? ""):\(licenseUpdatedAt ?? "")"
            }
        }
    }

    package struct FieldChange: Codable, Sendable, Equatable {
        package var name: String
        package var old: JSONAny
        package var new: JSONAny
    }

    /// A row planned nothing for, and why.
    package struct Skipped: Codable, Sendable, Equatable {
        package var order: String
        package var sourceLine: Int
        package var reason: String
    }

    /// A row licprov will not guess about: nothing is planned for it.
    package struct Conflict: Codable, Sendable, Equatable {
        package var order: String
        package var sourceLine: Int
        package var licenseIDs: [String]
        package var message: String
    }

    package var idColumn: String
    package var products: [String]
    /// The apply's journal the plan was made against (a saved plan is applied with it).
    package var journalPath: String?
    package var steps: [Step] = []
    package var conflicts: [Conflict] = []
    /// Fields that differ but the API cannot change (a license's `type`, say): said, not planned.
    package var notes: [String] = []
    /// Rows planned nothing for: an order the file says not to provision yet (not paid), a line that
    /// is not a license, an order that ended before it was ever provisioned (nothing is made to be revoked).
    /// (Optional, as the warnings: a plan saved by 0.3.0 has neither, and is still read.)
    package var skipped: [Skipped]? = nil
    /// What the file's rows were warned about (`#1008/DESK-PRO-1Y (line 12): partially refunded: its
    /// licenses are kept`): said, and planned as the row says.
    package var warnings: [String]? = nil
    /// Licenses the file and the account agree on.
    package var unchanged = 0
    /// Managed licenses read from the account.
    package var managed = 0
    /// Managed licenses no row names (planned only with `--prune`).
    package var pruneCandidates = 0
    /// `--prune`'s mode (nil: prune candidates are left alone).
    package var pruneMode: String?
    /// Requests the plan made (all reads).
    package var requests = 0

    package init(idColumn: String, products: [String]) {
        self.idColumn = idColumn
        self.products = products
    }

    /// True when applying would send nothing.
    package var isEmpty: Bool { steps.isEmpty }

    package func count(_ kind: Step.Kind) -> Int { steps.filter { $0.kind == kind }.count }

    /// The one-line tally: `+20 create, ~15 update (5 revoke), -10 suspend, 2 conflicts, = 120 unchanged`.
    package var tally: String {
        let creates = count(.create)
        let changes = steps.filter { $0.kind != .create && !$0.prune }
        let prunes = steps.filter(\.prune)
        var parts = ["\(creates) to create", "\(changes.count) to change"]
        let byKind = Dictionary(grouping: changes, by: \.kind).mapValues(\.count)
        if !byKind.isEmpty {
            parts[1] +=
                " ("
                + Step.Kind.allCases.compactMap { kind in byKind[kind].map { "\($0) \(kind.rawValue)" } }.joined(
                    separator: ", ") + ")"
        }
        parts.append("\(prunes.count) to prune" + (prunes.first.map { " (\($0.kind.rawValue))" } ?? ""))
        let drift = changes.filter { $0.drift == true }.count
        if drift > 0 { parts[1] += ", \(drift) restoring drift" }
        if pruneCandidates > prunes.count {
            parts.append(
                pruneMode.map {
                    "\(pruneCandidates - prunes.count) not in the file already \($0 == "suspend" ? "suspended" : "revoked")"
                }
                    ?? "\(pruneCandidates - prunes.count) not in the file left alone (pass --prune to suspend, revoke or delete them)"
            )
        }
        parts.append("\(conflicts.count) conflicts")
        if let skipped, !skipped.isEmpty { parts.append("\(skipped.count) skipped") }
        parts.append("\(unchanged) unchanged")
        return parts.joined(separator: ", ")
    }

    /// The readable diff: one line per step, then the conflicts and the tally.
    package var text: String {
        var lines: [String] = []
        for step in steps {
            let line = step.sourceLine.map { " (line \($0))" } ?? ""
            switch step.kind {
            case .create:
                lines.append("+ create \(step.order)\(step.unit.map { $0 > 1 ? " #\($0)" : "" } ?? "")\(line)")
            default:
                let sign = step.prune ? "-" : "~"
                let fields = step.fields.flatMap(Self.describe).joined(separator: ", ")
                let origin =
                    step.drift.map {
                        $0 ? " [drift: the account changed; restoring the file's]" : " [the file changed]"
                    } ?? ""
                lines.append(
                    "\(sign) \(step.kind.rawValue) \(step.order) \(step.licenseID ?? "")\(line)"
                        + (step.prune ? ": no row names it" : fields.isEmpty ? "" : ": \(fields)") + origin)
            }
        }
        for conflict in conflicts {
            lines.append("! conflict \(conflict.order) (line \(conflict.sourceLine)): \(conflict.message)")
        }
        for skip in skipped ?? [] { lines.append("= skip \(skip.order) (line \(skip.sourceLine)): \(skip.reason)") }
        for warning in warnings ?? [] { lines.append("warning: \(warning)") }
        for note in notes { lines.append("note: \(note)") }
        lines.append("plan: \(tally); \(managed) managed licenses read in \(requests) requests, nothing written")
        return lines.joined(separator: "\n") + "\n"
    }

    /// A field's change as the diff shows it; a metadata list by the entries that change.
    static func describe(_ change: FieldChange) -> [String] {
        if change.name == "metadata", case .array(let old) = change.old, case .array(let new) = change.new,
            let before = LicenseFields.metadataPairs(old), let after = LicenseFields.metadataPairs(new)
        {
            let was = Dictionary(before.map { ($0[0], $0[1]) }, uniquingKeysWith: { first, _ in first })
            return after.filter { was[$0[0]] != $0[1] }.map { "metadata.\($0[0]) \(was[$0[0]] ?? "none") → \($0[1])" }
        }
        return ["\(change.name) \(show(change.old)) → \(show(change.new))"]
    }

    static func show(_ value: JSONAny) -> String {
        switch value {
        case .null: "none"
        case .string(let text): text
        case .bool(let flag): String(flag)
        case .number(let number):
            number == number.rounded() && abs(number) < 1e15 ? String(Int64(number)) : String(number)
        default:
            String(decoding: (try? JSONEncoder().encode(value)) ?? Data(), as: UTF8.self)
        }
    }

    /// The plan as JSON (`--json`, `-o PLAN`).
    package var json: [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return Array((try? encoder.encode(self)) ?? Data())
    }

    /// The derived run's rows, typed: one per step, in the plan's order, each identified by its
    /// ``Step/syncID``. A create saved by a licprov before 0.3.1 (its columns, not its request) is
    /// a row with an error: plan again.
    package func rows() -> [OrderRow] {
        stepRows()
            + (skipped ?? []).enumerated().map { index, skip in
                // After the steps: listed in the results, with the export's line.
                .derivedSkip(
                    rowID: "skip:\(skip.order)", line: steps.count + index + 1,
                    reason: "\(skip.order) (line \(skip.sourceLine)): \(skip.reason)")
            }
    }

    private func stepRows() -> [OrderRow] {
        steps.enumerated().map { index, step in
            let line = index + 1
            switch step.kind {
            case .create:
                guard let request = step.request else {
                    var row = OrderRow.derivedCreate(
                        rowID: step.syncID, line: line, request: LicenseRequest(productId: ""))
                    row.diagnostics.append(
                        Diagnostic(
                            file: "plan", line: line,
                            message:
                                "a create without its request: the plan was saved by an earlier licprov; plan again"))
                    return row
                }
                return .derivedCreate(
                    rowID: step.syncID, line: line, request: request, customer: step.customer,
                    organization: step.organization, reseller: step.reseller)
            case .update:
                // An email is no field: the customer the license is linked to.
                let fields = Dictionary(
                    step.fields.filter { $0.name != "email" }.map { ($0.name, $0.new) },
                    uniquingKeysWith: { _, last in last })
                return .derivedChange(
                    rowID: step.syncID, line: line, licenseID: step.licenseID ?? "", action: .update, fields: fields,
                    customer: step.customer)
            case .setExpiry:
                // No expiry in the file (null) is set-expiry's `perpetual`.
                let expiry: ExpiryChange =
                    if case .string(let date)? = step.fields.first?.new { .date(date) } else { .perpetual }
                return .derivedChange(
                    rowID: step.syncID, line: line, licenseID: step.licenseID ?? "", action: .setExpiry, expiry: expiry)
            case .revoke, .unrevoke, .suspend, .unsuspend, .delete:
                return .derivedChange(
                    rowID: step.syncID, line: line, licenseID: step.licenseID ?? "", action: step.kind.action)
            }
        }
    }

    /// The derived run's id column.
    package static let syncIDColumn = "sync_id"
}

import APIRequests
import CryptlexAPI
import CryptlexModels
import Foundation
import Journal
import Provisioning
import Scheduling

/// `licprov apply PLAN.json`: applies exactly a plan saved by `plan -o`, or refuses it when the
/// account moved since it was made.
///
/// A plan is **stale** when a license one of its changes names has another `updatedAt` than when it
/// was planned (edited, or gone), or when an order it creates licenses for has another number of
/// licenses than it had. Steps the apply's journal already holds are its own doing (an apply of this
/// plan that was killed): they are not checked, and the journal settles them.
package enum SavedPlan {
    /// Why a saved plan is not applied.
    package struct Stale: Error, LocalizedError, Sendable {
        package var reasons: [String]
        package var errorDescription: String? {
            "the saved plan is stale: \(reasons.count) of its steps no longer match the account (\(reasons.prefix(5).joined(separator: "; "))"
                + (reasons.count > 5 ? "; …" : "") + "); nothing was sent. Plan again, review, and apply the new plan"
        }
    }

    /// The plan in `path`, or nil when the file is not a saved plan (an order file).
    package static func read(_ path: String) -> SyncPlan? {
        guard path.hasSuffix(".json"), let data = FileManager.default.contents(atPath: path),
            data.first(where: { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }) == UInt8(ascii: "{")
        else { return nil }
        return try? JSONDecoder().decode(SyncPlan.self, from: data)
    }

    /// Throws ``Stale`` when the account moved since `plan` was made.
    package static func check(_ plan: SyncPlan, configuration: RunConfiguration, client: CryptlexClient) async throws {
        var ours = Set<String>()
        if let journalPath = plan.journalPath, FileManager.default.fileExists(atPath: journalPath) {
            try SQLiteJournal(path: journalPath).forEachEntry(operations: .none) { ours.insert($0.rowID) }
        }
        let steps = plan.steps.filter { !ours.contains($0.syncID) }
        let requests = RunRequests.make(configuration, stop: StopSignal(), counters: RunCounters())
        var reasons: [String] = []
        // Changes: each license as it is now, by id, 100 a request.
        let changes = steps.filter { $0.kind != .create }
        guard let current = await requests.licenses(ids: changes.compactMap(\.licenseID), client: client) else {
            throw SyncPlanner.Unreadable(reason: "a read of the plan's licenses failed")
        }
        var now: [String: String] = [:]
        for snapshot in current {
            now[snapshot.license.id] = snapshot.fields["updatedAt"].flatMap(SyncPlanner.text) ?? ""
        }
        for step in changes {
            guard let id = step.licenseID else { continue }
            switch now[id] {
            case nil: reasons.append("\(step.order)'s license \(id) is gone")
            case let stamp? where stamp != step.licenseUpdatedAt:
                reasons.append("\(step.order)'s license \(id) changed at \(stamp)")
            default: break
            }
        }
        // Creates: how many licenses each order has now, by its id metadata, 100 orders a request.
        let creates = steps.filter { $0.kind == .create }
        let orders = Array(Set(creates.map(\.order))).sorted()
        let counts = try await SyncPlanner.count(orders, idColumn: plan.idColumn, requests: requests, client: client)
        for order in orders {
            let existing = creates.first { $0.order == order }?.existing ?? 0
            if counts[order, default: 0] != existing {
                reasons.append("\(order) has \(counts[order, default: 0]) licenses, the plan saw \(existing)")
            }
        }
        if !reasons.isEmpty { throw Stale(reasons: reasons) }
    }
}

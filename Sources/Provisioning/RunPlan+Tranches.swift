import Ingestion
import Journal
import Scheduling

/// Registering a file in parts, so that its first licenses go out while the rest is registered.
///
/// A fresh file of 1,000,000 rows takes about 40 s to register in one transaction; sending
/// waited for all of it. In parts — 500 rows, then four times more each time up to 4,000 — each
/// committed part's work goes to the run at once (``Tranche``). Only for a file already known to
/// be acceptable (``ProvisioningRun`` checks the whole file first: a file that would be refused
/// must not have sent anything), into a journal that holds no entry yet. A stop ends registering
/// at the next row check (`halt`, or the planner's own stop); the parts committed stay in the
/// journal, pending, for the next run.
extension RunPlanner {
    /// One committed part of the file: its work, the change entries among it, and where its
    /// customers and organizations or resellers begin (those registered after these ids are its own).
    struct Tranche: Sendable {
        var work: [WorkItem]
        var changeEntries: [Int64]
        var customersAfter: Int64
        var directoryAfter: Int64
    }

    /// The rows of the first part; each next part is four times larger, up to ``largestTranche``.
    static let firstTranche = 500
    static let largestTranche = 4_000

    /// Registers the file in parts, handing each committed part to `deliver`. Returns the whole
    /// plan (``RunPlan/interrupted`` when a stop, or `halt`, ended it early).
    func planInTranches(halt: StopSignal, deliver: (Tranche) -> Void) throws -> RunPlan {
        var (state, reader) = try begin()
        var buffer: [OrderRow] = []
        var size = Self.firstTranche
        let stop = self.stop
        func stopped() -> Bool { halt.isRequested || stop?.isRequested == true }
        var lastRegistered = 0
        func flush() throws {
            guard !buffer.isEmpty else { return }
            let (lookups, sends, changes) = (
                state.plan.lookups.count, state.plan.sends.count, state.plan.changeEntries.count
            )
            let before = try journal.registering { registration in
                let before = try registration.lastIDs()
                for row in buffer { try register(row, into: &state, registration: registration) }
                return before
            }
            lastRegistered = buffer.last?.position.line ?? lastRegistered
            state.plan.parts += 1
            buffer.removeAll(keepingCapacity: true)
            deliver(
                Tranche(
                    work: Array(state.plan.lookups[lookups...]) + Array(state.plan.sends[sends...]),
                    changeEntries: Array(state.plan.changeEntries[changes...]),
                    customersAfter: before.customer, directoryAfter: before.directory))
            size = min(size * 4, Self.largestTranche)
        }
        do {
            state.plan.summary = try reader.read { row in
                state.rows += 1
                if state.rows & 255 == 0, stopped() { throw Interrupted(rows: state.rows) }
                if let reason = row.skipped { return Self.noteSkipped(row, reason: reason, in: &state.plan) }
                guard row.isValid else { return Self.noteInvalid(row, in: &state.plan) }
                guard state.plan.problems.isEmpty || configuration.skipInvalid else { return }
                buffer.append(row)
                if buffer.count >= size { try flush() }
            }
            if stopped() { throw Interrupted(rows: state.rows) }
            try flush()
        } catch is Interrupted {
            state.plan.interrupted = true
            state.plan.lastLine = lastRegistered
        }
        return state.plan
    }
}

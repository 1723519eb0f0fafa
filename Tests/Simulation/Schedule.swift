import CryptlexEmulator
import Foundation
import TestSupport

/// One schedule of the simulation, drawn whole from its seed: the order file, how many workers,
/// the faults the emulator injects, and where each process is killed.
package struct Schedule: Sendable {
    package struct Row: Sendable {
        package var order: String
        package var email: String?
        package var quantity: Int
        /// The customer's company and the reseller, by name (found or created once a journal).
        package var organization: String? = nil
        package var reseller: String? = nil
        /// The seats the next night's export gives the row (nil: not in the order file's columns).
        package var activations: Int? = nil
        /// The license's subscription interval, as the file has it (an edit makes it `P1Y`).
        package var interval = "P1M"
    }

    /// A process killed at its `atRequest`-th request: before the server saw it, or after the
    /// server processed it (its answer lost with the process).
    package struct Crash: Sendable {
        package var atRequest: Int
        package var afterProcessing: Bool
    }

    /// A change to one row's license, made once every row is created (by its `order_id`).
    package struct Change: Sendable {
        package enum Action: String, Sendable {
            case renew, suspend, update, revoke
            case setExpiry = "set-expiry"
        }
        package var event: String
        package var order: String
        package var action: Action
        /// The seats an update sets.
        package var activations: Int
    }

    package var seed: UInt64
    package var rows: [Row]
    package var changes: [Change]
    /// Kills of the processes that make the changes.
    package var changeCrashes: [Crash]
    package var concurrency: Int
    package var faults: FaultSettings
    /// List operators the server refuses (a quarter of the schedules refuse `in`: licprov falls
    /// back to one value a request).
    package var refusedOperators: Set<String>
    /// One per killed process, in order; the processes after them run to their end.
    package var crashes: [Crash]
    /// Whether the orders are undone at the end (`licprov undo` of their journal), and the kills of
    /// the undo's processes.
    package var undo: Bool
    package var undoCrashes: [Crash]
    /// The owner revokes the token of the `process`-th process of the orders from its
    /// `atRequest`-th request on (unless that process runs with the faults off: the schedule had
    /// settled sooner); the next process has a good one.
    package struct Revocation: Sendable {
        package var process: Int
        package var atRequest: Int
    }
    package var revocation: Revocation?
    /// The last `lateRows` rows are appended to the order file before the `lateFrom`-th process
    /// (the world moving between runs: the next export has more orders).
    package var lateRows = 0
    package var lateFrom = 0
    /// Another client makes a copy of one of the licenses (its marker too) once the orders are
    /// settled; `audit --fix-duplicates` deletes the copy, killed where `fixCrashes` say.
    package var duplicate = false
    package var fixCrashes: [Crash] = []
    /// Another client deletes a license at the end (when the orders are not undone): the same
    /// command run again must not make it again, and `audit` must report it missing.
    package var deleteByHand = false
    /// The next night's export, for `plan` and `apply --prune delete` (schedules with none of the
    /// workloads above after the creates): rows kept with new seats, rows gone, new rows.
    package var export: [Row]? = nil
    package var applyCrashes: [Crash] = []
    /// Another client creates this customer just before licprov's own create of it reaches the
    /// server: licprov's gets a 409 and must use the other's user.
    package var raceEmail: String?
    /// The order file edited before the `editFrom`-th process (0: never): these rows' interval
    /// changed to `P1Y`, these rows gone from the file.
    package var editFrom = 0
    package var edited: Set<String> = []
    package var removed: Set<String> = []
    /// What another client does to a change's license (by event) before the changes run.
    package enum HandEdit: Sendable, Equatable {
        case suspend, renew
        case seats(Int)
    }
    package var handEdits: [String: HandEdit] = [:]
    /// The share of requests whose answer comes after the client's deadline (``SlowNetwork``).
    package var slowAnswers = 0.0

    package init(seed: UInt64) {
        self.seed = seed
        var random = SeededGenerator(seed: seed)
        let count = Int.random(in: 1...12, using: &random)
        let customers = Int.random(in: 1...4, using: &random)
        // Half the schedules name organizations and resellers on some rows (one or two of each).
        let directories = Bool.random(using: &random)
        let organizations = Int.random(in: 1...2, using: &random)
        let resellers = Int.random(in: 1...2, using: &random)
        rows = (1...count).map { index in
            Row(
                order: "O-\(index)",
                email: Bool.random(using: &random)
                    ? "c\(Int.random(in: 1...customers, using: &random))@example.com" : nil,
                quantity: Int.random(in: 0..<5, using: &random) == 0 ? 2 : 1,
                organization: directories && Int.random(in: 0..<3, using: &random) == 0
                    ? "Org \(Int.random(in: 1...organizations, using: &random))" : nil,
                reseller: directories && Int.random(in: 0..<3, using: &random) == 0
                    ? "Reseller \(Int.random(in: 1...resellers, using: &random))" : nil)
        }
        // Mostly one worker (its order of requests is the seed's alone); some schedules with more.
        concurrency = Int.random(in: 0..<4, using: &random) == 0 ? Int.random(in: 2...4, using: &random) : 1
        var rules: [FaultRule] = []
        for fault in Fault.allCases where Int.random(in: 0..<3, using: &random) == 0 {
            rules.append(FaultRule(fault: fault, probability: Double.random(in: 0.05...0.3, using: &random)))
        }
        // The search lags 1 to 5 s of the simulation's time (within the reconcile delay, 5 s).
        faults = FaultSettings(
            rules: rules, retryAfterSeconds: 0,
            lookupLagMilliseconds: Bool.random(using: &random) ? Int.random(in: 1...5, using: &random) * 1_000 : 0)
        refusedOperators = Int.random(in: 0..<4, using: &random) == 0 ? ["in"] : []
        let requests = rows.reduce(0) { $0 + $1.quantity } * 2 + 2
        crashes = (0..<Int.random(in: 0...3, using: &random)).map { _ in
            Crash(atRequest: Int.random(in: 1...requests, using: &random), afterProcessing: Bool.random(using: &random))
        }
        // Half the schedules then change some licenses (rows of one license: a change names it by order id).
        var changes: [Change] = []
        // (Revoke and set-expiry are drawn from a generator of their own, so that the seeds drawn
        // before they were added draw the same schedules as before, but for those actions.)
        var more = SeededGenerator(seed: seed ^ 0xBB67_AE85_84CA_A73B)
        if Bool.random(using: &random) {
            for row in rows where row.quantity == 1 && Bool.random(using: &random) {
                var action = [Change.Action.renew, .suspend, .update].randomElement(using: &random)!
                switch Int.random(in: 0..<5, using: &more) {
                case 0: action = .revoke
                case 1: action = .setExpiry
                default: break
                }
                changes.append(
                    Change(
                        event: "E-\(changes.count + 1)", order: row.order, action: action,
                        activations: Int.random(in: 3...9, using: &random)))
            }
        }
        self.changes = changes
        let changeRequests = changes.count * 3 + 2
        changeCrashes =
            changes.isEmpty
            ? []
            : (0..<Int.random(in: 0...2, using: &random)).map { _ in
                Crash(
                    atRequest: Int.random(in: 1...changeRequests, using: &random),
                    afterProcessing: Bool.random(using: &random))
            }
        // A third of the schedules undo the orders, killed up to twice on the way.
        undo = Int.random(in: 0..<3, using: &random) == 0
        let undoRequests = requests
        undoCrashes =
            undo
            ? (0..<Int.random(in: 0...2, using: &random)).map { _ in
                Crash(
                    atRequest: Int.random(in: 1...undoRequests, using: &random),
                    afterProcessing: Bool.random(using: &random))
            } : []
        // A quarter of the schedules have a token revoked in the middle of a run.
        revocation =
            Int.random(in: 0..<4, using: &random) == 0
            ? Revocation(
                process: Int.random(in: 0...crashes.count, using: &random),
                atRequest: Int.random(in: 1...requests, using: &random)) : nil
        // A quarter of the schedules append one or two of their rows to the file between processes.
        if count > 2, Int.random(in: 0..<4, using: &random) == 0 {
            lateRows = Int.random(in: 1...2, using: &random)
            lateFrom = Int.random(in: 1...(crashes.count + 1), using: &random)
        }
        // A fifth of the schedules meet a duplicate made by someone else.
        if Int.random(in: 0..<5, using: &random) == 0 {
            duplicate = true
            fixCrashes = (0..<Int.random(in: 0...2, using: &random)).map { _ in
                Crash(atRequest: Int.random(in: 1...4, using: &random), afterProcessing: Bool.random(using: &random))
            }
        }
        deleteByHand = Int.random(in: 0..<4, using: &random) == 0
        if changes.isEmpty, !undo, !duplicate, !deleteByHand, Bool.random(using: &random) {
            var export: [Row] = []
            // (At least one row of the product: an export that names no product manages nothing.)
            for (index, var row) in rows.enumerated() where index == 0 || Int.random(in: 0..<5, using: &random) > 0 {
                row.activations = Int.random(in: 1...9, using: &random)
                export.append(row)
            }
            for index in 0..<Int.random(in: 0...2, using: &random) {
                export.append(
                    Row(
                        order: "N-\(index + 1)", email: nil, quantity: 1,
                        activations: Int.random(in: 1...9, using: &random)))
            }
            self.export = export
            let applyRequests = rows.count + export.count * 2 + 4
            applyCrashes = (0..<Int.random(in: 0...2, using: &random)).map { _ in
                Crash(
                    atRequest: Int.random(in: 1...applyRequests, using: &random),
                    afterProcessing: Bool.random(using: &random))
            }
        }
        // (Drawn last, so that what the draws above make of a seed stays as it was.)
        // A quarter of the schedules with customers: another client creates one of them meanwhile.
        let emails = rows.compactMap(\.email)
        if !emails.isEmpty, Int.random(in: 0..<4, using: &random) == 0 {
            raceEmail = emails.randomElement(using: &random)
        }
        // A fifth of the schedules (not the next night's export: it is a file of its own) edit the
        // order file between processes: rows edited, rows removed (none a change names).
        if export == nil, count - lateRows > 1, Int.random(in: 0..<5, using: &random) == 0 {
            editFrom = Int.random(in: 1...(crashes.count + 1), using: &random)
            let targets = Set(changes.map(\.order))
            for row in rows.dropLast(lateRows) {
                switch Int.random(in: 0..<6, using: &random) {
                case 0, 1: edited.insert(row.order)
                case 2 where !targets.contains(row.order): removed.insert(row.order)
                default: break
                }
            }
            if removed.count == count - lateRows { removed.remove(rows[0].order) }
            for index in rows.indices where edited.contains(rows[index].order) { rows[index].interval = "P1Y" }
        }
        // A third of the change schedules: another client has edited some of the licenses first.
        if !changes.isEmpty, Int.random(in: 0..<3, using: &random) == 0 {
            for change in changes where Bool.random(using: &random) {
                handEdits[change.event] =
                    switch Int.random(in: 0..<3, using: &random) {
                    case 0: .suspend
                    case 1: .renew
                    default:
                        .seats(
                            Bool.random(using: &random) ? change.activations : Int.random(in: 10...20, using: &random))
                    }
            }
        }
        // A third of the schedules have answers slower than the client's deadline.
        if Int.random(in: 0..<3, using: &random) == 0 { slowAnswers = Double.random(in: 0.05...0.2, using: &random) }
        // Half the schedules' 429s and 503s say `Retry-After: 1` to `3`; the rest, 0.
        if Bool.random(using: &random) { faults.retryAfterSeconds = Int.random(in: 1...3, using: &random) }
    }

    /// The rows the order file has once every edit is made: the removed ones gone.
    package var finalRows: [Row] { rows.filter { !removed.contains($0.order) } }

    /// The order file before the `process`-th process: the late rows from `lateFrom` on, the
    /// edits from `editFrom` on (before them, the edited rows as first written).
    func file(before process: Int) -> String {
        var shown = Array(rows.dropLast(lateRows))
        if lateRows > 0, process >= lateFrom { shown = rows }
        if editFrom > 0, process >= editFrom {
            shown.removeAll { removed.contains($0.order) }
        } else {
            for index in shown.indices { shown[index].interval = "P1M" }
        }
        return csv(shown[...])
    }

    /// The versions of the order file and the process each is written before (the first is written at the start).
    var fileVersions: [Int: String] {
        var versions: [Int: String] = [:]
        for at in [lateRows > 0 ? lateFrom : 0, editFrom] where at > 0 { versions[at] = file(before: at) }
        return versions
    }

    /// The change file (CSV): one event a change, its license by the `order_id` it was created with.
    var changesCSV: String {
        "event_id,action,order_id,allowedActivations,expiresAt\n"
            + changes.map {
                "\($0.event),\($0.action.rawValue),\($0.order),\($0.action == .update ? String($0.activations) : ""),"
                    + "\($0.action == .setExpiry ? Self.newExpiry : "")\n"
            }.joined()
    }

    /// The expiry a set-expiry row sets.
    package static let newExpiry = "2030-12-31"

    /// The order file (CSV) as the first process sees it: without the late rows, not yet edited.
    var earlyCSV: String { file(before: 0) }

    /// The next night's export (CSV): the order file's columns and the seats.
    var exportCSV: String { csv((export ?? [])[...], seats: true) }

    private func csv(_ rows: ArraySlice<Row>, seats: Bool = false) -> String {
        "order_id,productId,quantity,email,subscriptionInterval,organization.name,organization.email,reseller.name,"
            + "reseller.email\(seats ? ",allowedActivations" : "")\n"
            + rows.map { row in
                let organization = row.organization.map { "\($0),\(Self.email(of: $0))" } ?? ","
                let reseller = row.reseller.map { "\($0),\(Self.email(of: $0))" } ?? ","
                return
                    "\(row.order),prod-1,\(row.quantity),\(row.email ?? ""),\(row.interval),\(organization),\(reseller)"
                    + (seats ? ",\(row.activations.map(String.init) ?? "")" : "") + "\n"
            }.joined()
    }

    /// An organization's or reseller's email, from its name (`Org 1` → `org-1@example.com`).
    static func email(of name: String) -> String {
        name.lowercased().replacingOccurrences(of: " ", with: "-") + "@example.com"
    }
}

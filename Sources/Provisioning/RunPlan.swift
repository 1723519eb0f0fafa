import CryptlexAPI
import CryptlexModels
import Foundation
import Ingestion
import Journal
import Results
import Scheduling

/// What a run has to do, decided by reading the whole file against the journal before anything
/// is sent: new rows get an intent (with a fresh marker), known rows are matched by row id and
/// unit and compared by fingerprint.
///
/// | Journal has the row… | same fingerprint | different fingerprint (edited in the file) |
/// |---|---|---|
/// | not at all | — | new intent, pending |
/// | pending or failed | send it | new body (same marker), send it |
/// | in flight (a run crashed) | look it up first | look it up with the old marker; nothing found → send the new body |
/// | pending, failed, rejected… after an ambiguous send (``JournalEntry/maybeSent``) | look it up first | look it up first; nothing found → send the new body |
/// | created or recovered | nothing | nothing sent; reported as a conflict showing both versions |
/// | rejected, conflict or unresolved | nothing (it would fail the same way) | new body, send it |
///
/// An entry whose row is no longer in the file (removed, or now invalid or skipped) is never sent;
/// if a send of it may have taken effect (in flight, or ever ambiguous) it is looked up — a
/// change's license read — so the journal says what the account holds (``RunPlan/gone``).
///
/// Intents and changes are written in one transaction while the file is read, so memory does not
/// grow with the file; a file refused for its errors rolls the transaction back and leaves the
/// journal as it was.
///
/// (A little over 300 lines: the planner is the table above in one pass over the file, creates and
/// changes sharing the map of rows the journal knows; split, that map would be passed around. The
/// bodies it journals are in `RunPlan+Bodies.swift`, registering in parts in `RunPlan+Tranches.swift`.)
struct RunPlan: Sendable {
    /// What validation found.
    var summary = IngestSummary()
    /// Every row problem, in file order (file-level problems are in ``summary``).
    var problems: [Diagnostic] = []
    /// The invalid rows and the skipped ones, as results lines (they are not journaled).
    var rejectedLines: [ResultsFile.Line] = []
    /// Of those, the rows skipped (``OrderRow/skipped``: an order not paid yet, a line that is not a license).
    var skipped = 0
    /// The invalid rows among them (the rest are skipped).
    var invalidRows: Int { rejectedLines.count - skipped }
    /// Journal entries that belong to the file's valid rows.
    var entryIDs = Set<Int64>()
    /// Entries to look up first (left in flight), then entries to send, in file order.
    var lookups: [WorkItem] = []
    var sends: [WorkItem] = []
    /// Licenses a previous run settled that are unchanged.
    var alreadyDone = 0
    /// Settled licenses whose row was edited since.
    var edited = 0
    /// Entries whose rows are no longer in the file but whose send may have taken effect (in
    /// flight when a run was killed, or ever ambiguous): looked up, never sent (among ``lookups``).
    var gone = 0
    /// True when the file was refused (nothing was registered).
    var refused = false
    /// The first few requests a run would send, as `METHOD PATH BODY` (for a dry run).
    var sampleRequests: [String] = []
    /// Change entries that may still need their license read (``ChangeTargets``).
    var changeEntries: [Int64] = []
    /// Registering in parts stopped before the end of the file (the rest is registered next run),
    /// after the row on line ``lastLine``.
    var interrupted = false
    var lastLine = 0
    /// How many parts it was registered in (0: in one transaction, before any send).
    var parts = 0
}

/// Builds a ``RunPlan``.
///
/// Planning a large file takes seconds; a stop requested meanwhile (Ctrl-C) is noticed within a
/// few hundred rows: the registration transaction is rolled back — the journal is as it was
/// before the run — and ``plan()`` throws ``Interrupted``.
struct RunPlanner: Sendable {
    let configuration: RunConfiguration
    let journal: SQLiteJournal
    /// Checked while the file is read.
    var stop: StopSignal? = nil

    /// The stop came while the file was being planned; nothing was kept.
    struct Interrupted: Error {
        /// The rows read when the stop was noticed (it is checked every 256).
        var rows = 0
    }

    fileprivate struct RowUnit: Hashable {
        var rowID: String
        var unit: Int
    }

    /// What the journal knows of an entry, kept small: 100,000 of them must fit in a few MB.
    fileprivate struct Known {
        var id: Int64
        var sourceLine: Int
        var state: JournalEntry.State
        /// nil when the journal's text is not a fingerprint (then the row counts as edited).
        var hash: BodyFingerprint.Value?
        var editedHash: BodyFingerprint.Value?
        var maybeSent: Bool
    }

    /// Thrown inside the registration transaction to roll it back.
    private struct Refused: Error {}
    /// Thrown at the end of a dry run's registration: plan everything, keep nothing.
    private struct DryRun: Error {}

    /// What registering a file keeps from row to row.
    struct Registrar {
        fileprivate var known: [RowUnit: Known] = [:]
        let markerPrefix: String
        /// Each customer's journal id, by email key: a file's rows name a few thousand customers
        /// many times over, and each is registered (two statements) only the first time.
        var customers: [String: Int64] = [:]
        var directory = DirectoryRefs()
        var markers = MarkerGenerator()
        var plan = RunPlan()
        var rows = 0
    }

    /// The journal's entries by row and unit, and the run's rows (with their templates).
    func begin() throws -> (Registrar, any RowSource) {
        var state = Registrar(markerPrefix: try journal.markerPrefix())
        try journal.forEachDigest { digest in
            state.known[RowUnit(rowID: digest.rowID, unit: digest.unit)] = Known(
                id: digest.id, sourceLine: digest.sourceLine, state: digest.state,
                hash: BodyFingerprint.Value(hex: digest.bodyHash),
                editedHash: digest.editedHash.flatMap(BodyFingerprint.Value.init(hex:)),
                maybeSent: digest.maybeSent)
        }
        var ingest = configuration.ingest
        ingest.markerKey = configuration.markerKey
        ingest.keepIDAsMetadata = configuration.keepIDAsMetadata
        let configuration = self.configuration
        ingest.prepare = { row in
            row.action == .create ? RunPlanner.canonicalRequest(for: row, configuration: configuration) : []
        }
        return (state, try configuration.rowSource(ingest))
    }

    /// A skipped row: its results line, with why (it is not journaled, nothing is sent for it).
    static func noteSkipped(_ row: OrderRow, reason: String, in plan: inout RunPlan) {
        plan.skipped += 1
        plan.rejectedLines.append(
            ResultsFile.Line(
                sourceLine: row.position.line, rowID: row.rowID, unit: 1, status: "skipped", message: reason,
                action: row.action))
    }

    /// An invalid row: its problems, and its results line (it is not journaled).
    static func noteInvalid(_ row: OrderRow, in plan: inout RunPlan) {
        let errors = row.diagnostics.filter { $0.severity == .error }
        plan.problems += errors
        plan.rejectedLines.append(
            ResultsFile.Line(
                sourceLine: row.position.line, rowID: row.rowID, unit: 1, status: "rejected",
                message: errors.map { "\($0.field.map { "\($0): " } ?? "")\($0.message)" }.joined(separator: "; "),
                action: row.action))
    }

    /// Registers one valid row (``register(_:known:customers:directory:plan:registration:markerPrefix:markers:)``).
    func register(_ row: OrderRow, into state: inout Registrar, registration: SQLiteJournal.Registration) throws {
        try register(
            row, known: &state.known, customers: &state.customers, directory: &state.directory, plan: &state.plan,
            registration: registration, markerPrefix: state.markerPrefix, markers: &state.markers)
    }

    func plan() throws -> RunPlan {
        var (state, reader) = try begin()
        let stop = self.stop
        do {
            try journal.registering { registration in
                state.plan.summary = try reader.read { row in
                    state.rows += 1
                    if state.rows & 255 == 0, stop?.isRequested == true { throw Interrupted(rows: state.rows) }
                    if let reason = row.skipped { return Self.noteSkipped(row, reason: reason, in: &state.plan) }
                    guard row.isValid else { return Self.noteInvalid(row, in: &state.plan) }
                    // Once the file is known to be refused, nothing more is written.
                    guard state.plan.problems.isEmpty || configuration.skipInvalid else { return }
                    try register(row, into: &state, registration: registration)
                }
                if stop?.isRequested == true { throw Interrupted(rows: state.rows) }
                Self.lookUpGone(state.known.values, into: &state.plan)
                if state.plan.summary.errors > 0 && !configuration.skipInvalid { throw Refused() }
                if state.plan.summary.fileDiagnostics.contains(where: { $0.severity == .error }) { throw Refused() }
                if configuration.dryRun {
                    state.plan.sampleRequests = try state.plan.sends.prefix(3).compactMap {
                        try registration.request(of: $0.entryID)
                    }.map(Self.describe)
                    throw DryRun()
                }
            }
        } catch is Refused {
            state.plan.refused = true
            state.plan.lookups = []
            state.plan.sends = []
        } catch is DryRun {
            // Rolled back: the counts stand, the journal is as it was.
        }
        return state.plan
    }

    private func register(
        _ row: OrderRow, known: inout [RowUnit: Known], customers: inout [String: Int64],
        directory: inout DirectoryRefs, plan: inout RunPlan,
        registration: SQLiteJournal.Registration, markerPrefix: String, markers: inout MarkerGenerator
    ) throws {
        if row.action != .create {
            try registerChange(
                row, known: &known, customers: &customers, plan: &plan, registration: registration, markers: &markers)
            return
        }
        let (organizationRef, resellerRef) = try directory.register(row, in: registration)
        let customerRef = try Self.registerCustomer(
            of: row, customers: &customers, registration: registration,
            organizationRef: organizationRef, resellerRef: resellerRef)
        let hash = Self.createFingerprint(
            for: row, canonicalRequest: row.prepared ?? Self.canonicalRequest(for: row, configuration: configuration))
        let line = row.position.line
        for unit in 1...max(1, row.quantity) {
            // Each entry is matched once; row ids are unique within a file (ingestion checks).
            guard let entry = known.removeValue(forKey: RowUnit(rowID: row.rowID, unit: unit)) else {
                let marker = markers.next(prefix: markerPrefix)
                let operation = StoredOperation(
                    Self.createOperation(for: row, configuration: configuration, marker: marker))
                let id = try registration.insert(
                    Intent(
                        rowID: row.rowID, unit: unit, sourceLine: line,
                        operation: operation, bodyHash: hash.hex, marker: marker,
                        customerRef: customerRef, organizationRef: organizationRef, resellerRef: resellerRef))
                plan.entryIDs.insert(id)
                plan.sends.append(WorkItem(entryID: id, needsLookup: false))
                continue
            }
            plan.entryIDs.insert(entry.id)
            if entry.sourceLine != line { try registration.apply(.moveTo(id: entry.id, sourceLine: line)) }
            if entry.hash == hash {
                if entry.editedHash != nil {
                    try registration.apply(.noteEdit(id: entry.id, operation: nil, bodyHash: nil))
                }
                switch entry.state {
                case .created, .recovered: plan.alreadyDone += 1
                case .pending, .failed:
                    // A send of it was ambiguous once: it may exist, so it is looked up before any new send.
                    if entry.maybeSent {
                        plan.lookups.append(WorkItem(entryID: entry.id, needsLookup: true))
                    } else {
                        plan.sends.append(WorkItem(entryID: entry.id, needsLookup: false))
                    }
                case .inFlight: plan.lookups.append(WorkItem(entryID: entry.id, needsLookup: true))
                case .rejected, .conflict, .unresolved: break
                }
                continue
            }
            if entry.state.isSettled {
                plan.edited += 1
                if entry.editedHash != hash {
                    // What the row asks for now (no marker: it is never sent).
                    let edited = StoredOperation(.create(Self.request(for: row, configuration: configuration)))
                    try registration.apply(.noteEdit(id: entry.id, operation: edited, bodyHash: hash.hex))
                }
                continue
            }
            let marker = try registration.marker(of: entry.id) ?? ""
            if entry.state == .inFlight || entry.maybeSent {
                // It may exist on the server: look it up with the old marker; nothing found → send the new body.
                plan.lookups.append(
                    WorkItem(
                        entryID: entry.id, needsLookup: true,
                        replacement: Replacement(
                            operation: Self.createOperation(for: row, configuration: configuration, marker: marker),
                            bodyHash: hash.hex)))
            } else {
                // Never sent. A change row that became a create has a change's marker (no journal
                // prefix, which audit lists by): it gets a create's.
                let fresh = marker.hasPrefix(markerPrefix) ? nil : markers.next(prefix: markerPrefix)
                let operation = StoredOperation(
                    Self.createOperation(for: row, configuration: configuration, marker: fresh ?? marker))
                try registration.apply(
                    .replaceOperation(
                        id: entry.id, operation: operation, bodyHash: hash.hex,
                        state: .pending, error: nil, customerRef: customerRef, marker: fresh,
                        organizationRef: organizationRef, resellerRef: resellerRef))
                plan.sends.append(WorkItem(entryID: entry.id, needsLookup: false))
            }
        }
    }

    /// The entries no row of the file matched whose send may have taken effect, to be looked up
    /// (never sent), in the journal's order.
    fileprivate static func lookUpGone(_ left: some Sequence<Known>, into plan: inout RunPlan) {
        let unknown = left.filter { $0.state == .inFlight || ($0.maybeSent && [.pending, .failed].contains($0.state)) }
        for entry in unknown.sorted(by: { $0.id < $1.id }) {
            plan.lookups.append(WorkItem(entryID: entry.id, needsLookup: true, rowGone: true))
        }
        plan.gone += unknown.count
    }

    /// The journal's id of the row's customer, registered the first time its email is seen.
    private static func registerCustomer(
        of row: OrderRow, customers: inout [String: Int64], registration: SQLiteJournal.Registration,
        organizationRef: Int64? = nil, resellerRef: Int64? = nil
    ) throws -> Int64? {
        guard let customer = row.customer else { return nil }
        let key = CustomerRecord.key(customer.email)
        if let id = customers[key] { return id }
        let id = try registration.customer(
            email: customer.email, firstName: customer.firstName,
            lastName: customer.lastName, company: customer.company
        ).id
        if organizationRef != nil || resellerRef != nil {
            try registration.place(customer: id, organizationRef: organizationRef, resellerRef: resellerRef)
        }
        customers[key] = id
        return id
    }

    /// A change row: one entry, keyed like a create by its row id (unit 1), fingerprinted by its
    /// action, target and body. A change that was ever sent is never edited in place: a row edited
    /// after its change was sent is reported, like an edited create.
    private func registerChange(
        _ row: OrderRow, known: inout [RowUnit: Known], customers: inout [String: Int64], plan: inout RunPlan,
        registration: SQLiteJournal.Registration, markers: inout MarkerGenerator
    ) throws {
        let operation = StoredOperation(Self.changeOperation(for: row))
        let target = row.target
        // An update that links the license to a customer: its user id goes into the body at send time.
        let customerRef = try Self.registerCustomer(of: row, customers: &customers, registration: registration)
        let hash = Self.changeFingerprint(for: row)
        let line = row.position.line
        guard let entry = known.removeValue(forKey: RowUnit(rowID: row.rowID, unit: 1)) else {
            let id = try registration.insert(
                Intent(
                    rowID: row.rowID, unit: 1, sourceLine: line, operation: operation, bodyHash: hash.hex,
                    marker: markers.next(), customerRef: customerRef, target: target))
            plan.entryIDs.insert(id)
            plan.changeEntries.append(id)
            plan.sends.append(WorkItem(entryID: id, needsLookup: false))
            return
        }
        plan.entryIDs.insert(entry.id)
        if entry.sourceLine != line { try registration.apply(.moveTo(id: entry.id, sourceLine: line)) }
        if entry.hash != hash {
            if entry.state.isSettled || entry.state == .inFlight || entry.maybeSent {
                plan.edited += entry.state.isSettled ? 1 : 0
                if entry.editedHash != hash {
                    // What the row asks for now (no marker: it is never sent).
                    let edited = StoredOperation(.create(Self.request(for: row, configuration: configuration)))
                    try registration.apply(.noteEdit(id: entry.id, operation: edited, bodyHash: hash.hex))
                }
                if !entry.state.isSettled {
                    // Sent, and perhaps applied: settle what was sent first; the edit waits for a later run.
                    plan.changeEntries.append(entry.id)
                    plan.lookups.append(WorkItem(entryID: entry.id, needsLookup: true))
                }
                return
            }
            try registration.apply(
                .replaceOperation(
                    id: entry.id, operation: operation, bodyHash: hash.hex, state: .pending, error: nil,
                    customerRef: customerRef, target: target))
            plan.changeEntries.append(entry.id)
            plan.sends.append(WorkItem(entryID: entry.id, needsLookup: false))
            return
        }
        if entry.editedHash != nil { try registration.apply(.noteEdit(id: entry.id, operation: nil, bodyHash: nil)) }
        switch entry.state {
        case .created, .recovered: plan.alreadyDone += 1
        case .pending, .failed, .inFlight:
            plan.changeEntries.append(entry.id)
            if entry.state == .inFlight || entry.maybeSent {
                plan.lookups.append(WorkItem(entryID: entry.id, needsLookup: true))
            } else {
                plan.sends.append(WorkItem(entryID: entry.id, needsLookup: false))
            }
        case .rejected, .conflict, .unresolved: break
        }
    }
}

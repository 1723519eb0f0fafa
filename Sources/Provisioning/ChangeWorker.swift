import APIRequests
import CryptlexAPI
import CryptlexModels
import Foundation
import Ingestion
import Journal
import Logging
import Scheduling

/// A change to an existing license (update, renew, set-expiry, suspend, unsuspend, revoke,
/// unrevoke, delete), as ``SettlesOperation`` settles it — the same state machine as a create's
/// (``LicenseWorker``), through the same ``RunRequests`` (rate limit, retries, 429s, stop):
///
/// 1. **Before the first send**, the license is found (``ChangeTargets``, batched) and the fields
///    the change touches are written to the journal as its *before-state*, durably. A target that
///    does not exist is `rejected` (for a delete: done, "already gone"); one that matches two
///    licenses is a `conflict`.
/// 2. The change is marked in flight, durably, and sent.
/// 3. A **lost answer** (ambiguous: reset, 500/502/504, timeout after sending) is settled by
///    reading the license (`GET /v3/licenses/{id}`): a renewal took effect when the expiry is no
///    longer the one recorded before the first send; a PATCH when the license shows the fields it
///    set; a delete when the license is gone. Taken effect → `recovered`; else sent again. So a
///    renewal is applied once, however often answers are lost or the run is killed: a later run
///    reads first, and compares with the before-state the first run recorded.
///
/// Limit: the comparison assumes nothing else changes the license's expiry between the read and
/// the renewal (another tool renewing the same license at the same moment is not told apart).
struct ChangeWorker: SettlesOperation {
    let client: CryptlexClient
    let requests: RunRequests
    let committer: JournalCommitter
    let maxFailures: Int
    /// What ``ChangeTargets/prefetch(_:journal:requests:client:)`` found, by entry.
    /// Filled before the run's sends, and again for each part of a file registered while sending.
    let resolved = ChangeTargets.Prefetched()
    let logger: Logger
    /// Resolves the customer an update links its license to (nil: no row of the run does).
    var customers: CustomerResolver?

    /// The operation, the ids it links to (an update's customer), the license, and the fields the
    /// change touches as they were before its first send.
    struct Prepared: Sendable {
        var operation: LicenseOperation
        var links: Links
        var licenseID: String
        var before: [String: JSONAny]

        var action: LicenseAction { operation.action }

        /// The fields the license has once the change took effect (an update's linked user included).
        var wanted: [String: JSONAny] {
            var fields = operation.fields
            if case .update(let update) = operation, update.linksCustomer, let userID = links.userID {
                fields["userId"] = .string(userID)
            }
            return fields
        }
    }

    /// Finds the license and records its before-state, durably, before the first send.
    func prepare(_ item: LoadedItem) async throws(JournalError) -> Prepared? {
        guard let change = item.change else { return nil }
        let action = change.operation.action
        if let recorded = change.beforeState.flatMap(LicenseFields.decode) {
            guard let links = try await linked(item) else { return nil }
            return Prepared(
                operation: change.operation, links: links, licenseID: change.licenseID ?? "", before: recorded)
        }
        guard let target = change.target else {
            try reject(item, "the row names no license")
            return nil
        }
        let resolution: ChangeTargets.Resolution
        if let known = resolved[item.entryID], case .found = known {
            resolution = known
        } else if case .id = target {
            // A miss in a list may be the search lagging: an id is read directly.
            resolution = await ChangeTargets.resolve(target, requests: requests, client: client)
        } else if let known = resolved[item.entryID] {
            resolution = known
        } else {
            resolution = await ChangeTargets.resolve(target, requests: requests, client: client)
        }
        switch resolution {
        case .found(let snapshot):
            // An update sends only the fields the license does not already hold (a pulled file's
            // row carries them all; an edited cell is the change).
            let operation = Self.differing(change.operation, from: snapshot)
            let before = Self.touched(by: operation, in: snapshot)
            try await committer.recordTarget(
                item.entryID, licenseID: snapshot.license.id, licenseKey: snapshot.license.key,
                beforeState: LicenseFields.encode(before))
            guard let links = try await linked(item) else { return nil }
            if case .update(let update) = operation, update.fields.isEmpty,
                !update.linksCustomer || links.userID == snapshot.license.userId
            {
                try outcomes.settleUnchanged(
                    AttemptOutcome(
                        entryID: item.entryID, state: .created, licenseID: snapshot.license.id,
                        error: "the license already holds every value of the row: nothing was sent", endsAttempt: false)
                )
                return nil
            }
            return Prepared(operation: operation, links: links, licenseID: snapshot.license.id, before: before)
        case .absent where action == .delete:
            try outcomes.settle(
                AttemptOutcome(
                    entryID: item.entryID, state: .created,
                    error: "no license with \(target.description): already gone, nothing was deleted",
                    endsAttempt: false),
                change: true)
        case .absent:
            try reject(item, "no license with \(target.description)")
        case .several(let snapshots):
            try outcomes.settle(
                AttemptOutcome(
                    entryID: item.entryID, state: .conflict,
                    error:
                        "\(target.description) matches \(snapshots.count) licenses: \(snapshots.map(\.license.id).joined(separator: ", ")); none was changed",
                    endsAttempt: false), change: true)
        case .unavailable(let reason):
            try outcomes.leave()
            logger.warning(
                "the license to change could not be read; the next run tries again",
                metadata: ["row": "\(item.rowID)", "reason": "\(reason)"])
        }
        return nil
    }

    /// The user id of the customer an update links its license to (found or created now, once the
    /// license is known to exist: a wrong target makes no user); nil when the customer could not be
    /// resolved (recorded).
    private func linked(_ item: LoadedItem) async throws(JournalError) -> Links? {
        guard item.customerRef != nil, let customers else { return Links() }
        return try await Links.resolve(
            for: item, customers: customers, directory: nil, requests: requests,
            committer: committer, maxFailures: maxFailures)
    }

    /// The license and before-state the first send recorded (no customer resolved: the read
    /// compares the other fields); nil when nothing was recorded (it was never sent).
    func preparedToVerify(_ item: LoadedItem) -> Prepared? {
        guard let change = item.change, let before = change.beforeState.flatMap(LicenseFields.decode) else {
            return nil
        }
        return Prepared(operation: change.operation, links: Links(), licenseID: change.licenseID ?? "", before: before)
    }

    /// A change recorded before a crash or an ambiguous answer is read before it is sent again.
    func verifiesFirst(_ item: LoadedItem, _ prepared: Prepared) -> Bool {
        guard let change = item.change else { return false }
        return change.beforeState != nil && (item.needsLookup || change.maybeSent)
    }

    /// Reads the license: the change took effect → recovered; not → sent again (until attempts run out).
    func verify(_ item: LoadedItem, _ prepared: inout Prepared, failures: Int) async throws(JournalError) -> Bool {
        let action = prepared.action
        switch await read(prepared) {
        case .applied(let expiry):
            try outcomes.settle(
                AttemptOutcome(
                    entryID: item.entryID, state: .recovered, licenseID: prepared.licenseID,
                    error: nil, endsAttempt: false, afterExpiry: expiry), change: true)
        case .gone where action == .delete:
            try outcomes.settle(
                AttemptOutcome(entryID: item.entryID, state: .recovered, error: nil, endsAttempt: false), change: true)
        case .gone:
            try reject(item, "the license \(prepared.licenseID) no longer exists")
        case .notApplied where failures >= requests.policy.maxAttempts:
            try outcomes.settle(
                AttemptOutcome(
                    entryID: item.entryID, state: .failed,
                    error: "no answer after \(failures) attempts (each read: not applied)",
                    endsAttempt: false), change: true)
        case .notApplied:
            try committer.post(AttemptOutcome(entryID: item.entryID, state: .pending, endsAttempt: false))
            return true
        case .unavailable(let reason):
            try outcomes.leave()
            logger.warning(
                "reading the license failed; the next run reads it again",
                metadata: ["row": "\(item.rowID)", "reason": "\(reason)"])
        }
        return false
    }

    func send(_ prepared: Prepared) async throws(APIError) -> CryptlexClient.Answer<License?> {
        let id = prepared.licenseID
        return switch prepared.operation {
        case .renew: try await client.renewLicense(id: id).map { $0 }
        case .delete: try await client.deleteLicense(id: id).map { _ in nil }
        case .setExpiry(.date(let date)): try await client.setExpiry(id: id, expiresAt: date).map { $0 }
        case .setExpiry(.perpetual): try await client.setExpiry(id: id, expiresAt: nil).map { $0 }
        case .update, .suspend, .revoke, .create:
            try await client.updateLicense(id: id, body: prepared.links.body(of: prepared.operation)).map { $0 }
        }
    }

    func answered(_ item: LoadedItem, _ prepared: Prepared, _ answer: CryptlexClient.Answer<License?>, sentAt: String)
        throws(JournalError)
    {
        try outcomes.settle(
            AttemptOutcome(
                entryID: item.entryID, state: .created, httpStatus: answer.status, licenseID: prepared.licenseID,
                startedAt: sentAt, afterExpiry: answer.value?.expiresAt), change: true)
    }

    /// Returns nil: a change's rejection is about its own license (no subscription interval to
    /// renew by, a key taken), so it says nothing about the rows after it, unlike a create's first.
    func failed(
        _ item: LoadedItem, _ prepared: Prepared, _ error: APIError, _ outcome: OutcomeClass, failedAttempts: Int,
        sentAt: String
    ) async throws(JournalError) -> String? {
        if error.status == 404 {
            if prepared.action == .delete {
                try outcomes.settle(
                    AttemptOutcome(
                        entryID: item.entryID, state: .created, httpStatus: 404,
                        error: "already gone, nothing was deleted", startedAt: sentAt), change: true)
            } else {
                try reject(item, "the license \(prepared.licenseID) no longer exists", status: 404, startedAt: sentAt)
            }
            return nil
        }
        let permanent = if case .permanent = outcome { true } else { false }
        try outcomes.settle(
            AttemptOutcome(
                entryID: item.entryID, state: permanent ? .rejected : .failed, httpStatus: error.status,
                error: error.description, startedAt: sentAt), change: true)
        return nil
    }

    enum Reading {
        case applied(expiry: String?)
        case notApplied
        case gone
        case unavailable(String)
    }

    /// Whether a change whose answer was lost took effect, from the license as it is now.
    private func read(_ prepared: Prepared) async -> Reading {
        let snapshot: LicenseSnapshot
        let action = prepared.action
        switch await ChangeTargets.read(id: prepared.licenseID, requests: requests, client: client) {
        case .found(let found): snapshot = found
        case .gone: return .gone
        case .unavailable(let reason): return .unavailable(reason)
        }
        switch action {
        case .delete:
            return .notApplied
        case .renew:
            let was = prepared.before["expiresAt"] ?? .null
            return LicenseFields.same(snapshot.fields["expiresAt"] ?? .null, was)
                ? .notApplied : .applied(expiry: snapshot.license.expiresAt)
        default:
            let reached = prepared.wanted.allSatisfy { LicenseFields.same(snapshot.fields[$0.key] ?? .null, $0.value) }
            return reached ? .applied(expiry: action == .setExpiry ? snapshot.license.expiresAt : nil) : .notApplied
        }
    }

    private func reject(_ item: LoadedItem, _ message: String, status: Int? = nil, startedAt: String? = nil)
        throws(JournalError)
    {
        try outcomes.settle(
            AttemptOutcome(
                entryID: item.entryID, state: .rejected, httpStatus: status, error: message,
                endsAttempt: startedAt != nil, startedAt: startedAt), change: true)
    }

    // MARK: before-state

    /// An update with only the fields whose values the license does not hold (compared as
    /// ``LicenseFields/same(_:_:)`` compares); any other operation as it is.
    static func differing(_ operation: LicenseOperation, from snapshot: LicenseSnapshot) -> LicenseOperation {
        guard case .update(var update) = operation else { return operation }
        update.fields = update.fields.filter { !LicenseFields.same(snapshot.fields[$0.key] ?? .null, $0.value) }
        return .update(update)
    }

    /// The fields `action` touches, as the license has them: what undo restores and what a lost
    /// answer is compared with. A delete keeps the whole license.
    static func touched(by operation: LicenseOperation, in snapshot: LicenseSnapshot) -> [String: JSONAny] {
        let names: [String] =
            switch operation {
            case .renew, .setExpiry: ["expiresAt"]
            case .delete: Array(snapshot.fields.keys)
            case .update(let update) where update.linksCustomer: Array(update.fields.keys) + ["userId"]
            default: Array(operation.fields.keys)
            }
        var fields: [String: JSONAny] = [:]
        for name in names { fields[name] = snapshot.fields[name] ?? .null }
        return fields
    }
}

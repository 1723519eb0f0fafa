import CryptlexAPI
import CryptlexModels
import Foundation
import Ingestion
import Journal
import Logging
import Scheduling

/// Settles one change to an existing license (update, renew, set-expiry, suspend, unsuspend,
/// revoke, unrevoke, delete): the change rows' state machine, beside ``LicenseWorker``'s for
/// creates, through the same ``RunRequests`` (rate limit, retries, 429s, stop).
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
struct ChangeWorker: Sendable {
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
    private var stop: StopSignal { requests.stop }
    private var counters: RunCounters { requests.counters }

    /// Settles `item`. Returns nil: a change's rejection is about its own license, so the run's
    /// first row is not a gate for changes as it is for creates.
    @discardableResult
    func settle(_ item: LoadedItem) async throws(JournalError) -> String? {
        guard let change = item.change else { return nil }
        let action = change.action
        // An update that links the license to a customer sends the user's id (found or created first).
        var body = item.body
        if item.customerRef != nil, let customers {
            guard let links = try await Links.resolve(for: item, customers: customers, directory: nil, requests: requests,
                                                      committer: committer, maxFailures: maxFailures) else { return nil }
            body = links.fill(body)
        }
        var licenseID = change.licenseID ?? ""
        var before: [String: JSONAny]
        if let recorded = change.beforeState.flatMap(Self.decodeFields) {
            before = recorded
        } else {
            guard let target = change.target else {
                return try reject(item, "the row names no license")
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
                licenseID = snapshot.license.id
                before = Self.touched(by: action, body: body, in: snapshot)
                try await committer.recordTarget(item.entryID, licenseID: licenseID, licenseKey: snapshot.license.key,
                                                 beforeState: Self.encode(before))
            case .absent where action == .delete:
                counters.update { $0.changed += 1 }
                try committer.post(AttemptOutcome(entryID: item.entryID, state: .created,
                                                  error: "no license with \(target.description): already gone, nothing was deleted", endsAttempt: false))
                return nil
            case .absent:
                return try reject(item, "no license with \(target.description)")
            case .several(let snapshots):
                counters.update { $0.conflicts += 1 }
                try committer.post(AttemptOutcome(entryID: item.entryID, state: .conflict,
                                                  error: "\(target.description) matches \(snapshots.count) licenses: \(snapshots.map(\.license.id).joined(separator: ", ")); none was changed",
                                                  endsAttempt: false))
                noteFailure()
                return nil
            case .unavailable(let reason):
                counters.update { $0.notSent += 1 }
                logger.warning("the license to change could not be read; the next run tries again", metadata: ["row": "\(item.rowID)", "reason": "\(reason)"])
                return nil
            }
        }
        var failures = 0
        var readFirst = change.beforeState != nil && (item.needsLookup || change.maybeSent)
        while true {
            if readFirst {
                readFirst = false
                switch await read(licenseID, action: action, body: body, before: before) {
                case .applied(let expiry):
                    counters.update { $0.recovered += 1 }
                    try committer.post(AttemptOutcome(entryID: item.entryID, state: .recovered, licenseID: licenseID,
                                                      error: nil, endsAttempt: false, afterExpiry: expiry))
                    return nil
                case .gone:
                    if action == .delete {
                        counters.update { $0.recovered += 1 }
                        try committer.post(AttemptOutcome(entryID: item.entryID, state: .recovered, error: nil, endsAttempt: false))
                        return nil
                    }
                    return try reject(item, "the license \(licenseID) no longer exists")
                case .notApplied:
                    try committer.post(AttemptOutcome(entryID: item.entryID, state: .pending, endsAttempt: false))
                case .unavailable(let reason):
                    counters.update { $0.notSent += 1 }
                    logger.warning("reading the license failed; the next run reads it again", metadata: ["row": "\(item.rowID)", "reason": "\(reason)"])
                    return nil
                }
            }
            if stop.isRequested && failures > 0 {
                counters.update { $0.notSent += 1 }
                return nil
            }
            var notMarkedAhead = false
            let (ending, sentAt) = try await requests.sendJournaled(item.entryID, committer: committer, failedBefore: failures,
                                                                    markedAhead: &notMarkedAhead) {
                () async throws(APIError) in try await send(action, licenseID: licenseID, body: body)
            }
            switch ending {
            case .answered(let answer):
                counters.update { $0.changed += 1 }
                try committer.post(AttemptOutcome(entryID: item.entryID, state: .created, httpStatus: answer.status, licenseID: licenseID,
                                                  startedAt: sentAt, afterExpiry: answer.value?.expiresAt))
                return nil
            case .notSent:
                counters.update { $0.notSent += 1 }
                return nil
            case .failed(_, .ambiguous, let failedAttempts):
                // Recorded in flight: read the license before sending again.
                failures = failedAttempts
                guard failedAttempts < requests.policy.maxAttempts else {
                    counters.update { $0.failed += 1 }
                    try committer.post(AttemptOutcome(entryID: item.entryID, state: .failed, error: "no answer after \(failedAttempts) attempts (each read: not applied)",
                                                      endsAttempt: false))
                    noteFailure()
                    return nil
                }
                readFirst = true
            case .failed(let error, _, _) where error.status == 404:
                if action == .delete {
                    counters.update { $0.changed += 1 }
                    try committer.post(AttemptOutcome(entryID: item.entryID, state: .created, httpStatus: 404,
                                                      error: "already gone, nothing was deleted", startedAt: sentAt))
                    return nil
                }
                return try reject(item, "the license \(licenseID) no longer exists", status: 404, startedAt: sentAt)
            case .failed(let error, let outcome, _):
                let permanent = if case .permanent = outcome { true } else { false }
                counters.update { if permanent { $0.rejected += 1 } else { $0.failed += 1 } }
                try committer.post(AttemptOutcome(entryID: item.entryID, state: permanent ? .rejected : .failed, httpStatus: error.status,
                                                  error: error.description, startedAt: sentAt))
                noteFailure()
                // A 400 on a change is about that license (no subscription interval to renew by, a
                // key taken): unlike a create's, it says nothing about the rows after it.
                return nil
            }
        }
    }

    /// The request of `action` (a PATCH body for update, set-expiry and the four flags).
    private func send(_ action: LicenseAction, licenseID: String, body: [UInt8]) async throws(APIError) -> CryptlexClient.Answer<License?> {
        switch action {
        case .renew: try await client.renewLicense(id: licenseID).map { $0 }
        case .delete: try await client.deleteLicense(id: licenseID).map { _ in nil }
        case .setExpiry:
            try await client.setExpiry(id: licenseID, expiresAt: Self.decodeFields(body)?["expiresAt"].flatMap {
                if case .string(let text) = $0 { text } else { nil }
            }).map { $0 }
        case .update, .suspend, .unsuspend, .revoke, .unrevoke, .create:
            try await client.updateLicense(id: licenseID, body: body).map { $0 }
        }
    }

    enum Reading {
        case applied(expiry: String?)
        case notApplied
        case gone
        case unavailable(String)
    }

    /// Whether a change whose answer was lost took effect, from the license as it is now.
    private func read(_ licenseID: String, action: LicenseAction, body: [UInt8], before: [String: JSONAny]) async -> Reading {
        let snapshot: LicenseSnapshot
        switch await ChangeTargets.read(id: licenseID, requests: requests, client: client) {
        case .found(let found): snapshot = found
        case .gone: return .gone
        case .unavailable(let reason): return .unavailable(reason)
        }
        switch action {
        case .delete:
            return .notApplied
        case .renew:
            let was = before["expiresAt"] ?? .null
            return Self.same(snapshot.fields["expiresAt"] ?? .null, was) ? .notApplied : .applied(expiry: snapshot.license.expiresAt)
        default:
            let wanted = Self.decodeFields(body) ?? [:]
            let reached = wanted.allSatisfy { Self.same(snapshot.fields[$0.key] ?? .null, $0.value) }
            return reached ? .applied(expiry: action == .setExpiry ? snapshot.license.expiresAt : nil) : .notApplied
        }
    }

    private func reject(_ item: LoadedItem, _ message: String, status: Int? = nil, startedAt: String? = nil) throws(JournalError) -> String? {
        counters.update { $0.rejected += 1 }
        try committer.post(AttemptOutcome(entryID: item.entryID, state: .rejected, httpStatus: status, error: message,
                                          endsAttempt: startedAt != nil, startedAt: startedAt))
        noteFailure()
        return nil
    }

    private func noteFailure() { requests.noteFailure(maxFailures: maxFailures) }

    // MARK: before-state

    /// The fields `action` touches, as the license has them: what undo restores and what a lost
    /// answer is compared with. A delete keeps the whole license.
    static func touched(by action: LicenseAction, body: [UInt8], in snapshot: LicenseSnapshot) -> [String: JSONAny] {
        let names: [String] = switch action {
        case .renew, .setExpiry: ["expiresAt"]
        case .delete: Array(snapshot.fields.keys)
        default: Array((decodeFields(body) ?? [:]).keys)
        }
        var fields: [String: JSONAny] = [:]
        for name in names { fields[name] = snapshot.fields[name] ?? .null }
        return fields
    }

    static func decodeFields(_ text: String) -> [String: JSONAny]? {
        decodeFields(Array(text.utf8))
    }

    static func decodeFields(_ bytes: [UInt8]) -> [String: JSONAny]? {
        guard !bytes.isEmpty else { return [:] }
        return try? JSONDecoder().decode([String: JSONAny].self, from: Data(bytes))
    }

    static func encode(_ fields: [String: JSONAny]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(fields)) ?? Data("{}".utf8), as: UTF8.self)
    }

    /// Equal as JSON, with date-times compared as instants (`…00Z` and `…00.0000000Z` agree) and
    /// metadata lists by their entries' keys and values (the server adds an `id` and
    /// `viewPermissions` to each entry it keeps).
    static func same(_ a: JSONAny, _ b: JSONAny) -> Bool {
        if a == b { return true }
        if case .array(let x) = a, case .array(let y) = b, x.count == y.count, let first = metadataPairs(x), let second = metadataPairs(y) {
            return first == second
        }
        if case .string(let x) = a, case .string(let y) = b, let first = CryptlexTimestamp(x)?.date, let second = CryptlexTimestamp(y)?.date {
            return abs(first.timeIntervalSince(second)) < 0.001
        }
        return false
    }

    /// A metadata list as (key, value) pairs, in order; nil when `entries` is not one.
    static func metadataPairs(_ entries: [JSONAny]) -> [[String]]? {
        var pairs: [[String]] = []
        for entry in entries {
            guard case .object(let fields) = entry, case .string(let key)? = fields["key"], case .string(let value)? = fields["value"] else { return nil }
            pairs.append([key, value])
        }
        return pairs
    }
}

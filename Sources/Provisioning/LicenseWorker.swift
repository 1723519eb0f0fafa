import APIRequests
import CryptlexAPI
import CryptlexModels
import Foundation
import Journal
import Logging
import Scheduling

/// A create, as ``SettlesOperation`` settles it: its request encoded with the linked ids, sent with
/// `POST /v3/licenses`, verified after an ambiguous answer by looking its marker up.
///
/// The client's ``OutcomeClass`` decides; this type only obeys it:
///
/// | Outcome | Next |
/// |---|---|
/// | 201 | created |
/// | throttled, retryable (429, 503 + Retry-After, not connected) | pending; the executor sends again, until attempts run out → failed |
/// | ambiguous (lost response, 5xx, timeout after sending) | stays in flight; wait `reconcileDelay`, look it up by marker: found → recovered, two → conflict, none → send again |
/// | permanent (4xx) | rejected; a 409 on a row with its own key is looked up by key first: ours → recovered, someone else's → conflict |
/// | stopRun (401, 403) | pending; the whole run stops |
struct LicenseWorker: SettlesOperation {
    let client: CryptlexClient
    let customers: CustomerResolver
    let directory: DirectoryResolver
    let requests: RunRequests
    let committer: JournalCommitter
    let markerKey: String?
    let reconcileDelay: Duration
    let maxFailures: Int
    /// What ``BatchedLookups`` found for entries that needed a lookup before any send.
    var prefetched: BatchedLookups.Found = [:]
    /// The run's lookups by marker after ambiguous sends, made together (nil: no marker key).
    var markerLookups: MarkerLookups?
    let logger: Logger

    /// The request to send, encoded from the operation with the linked ids, and those ids (an edited
    /// row's new operation is encoded with them too).
    struct Prepared: Sendable {
        var body: [UInt8]
        var links: Links
    }

    func prepare(_ item: LoadedItem) async throws(JournalError) -> Prepared? {
        guard
            let links = try await Links.resolve(
                for: item, customers: customers, directory: directory, requests: requests,
                committer: committer, maxFailures: maxFailures)
        else { return nil }
        guard let request = item.request else { preconditionFailure("a create without its request") }
        return Prepared(body: links.body(of: .create(request)), links: links)
    }

    /// A lookup needs the marker alone: no customer, organization or reseller is resolved.
    func preparedToVerify(_ item: LoadedItem) -> Prepared? { Prepared(body: [], links: Links()) }

    func verifiesFirst(_ item: LoadedItem, _ prepared: Prepared) -> Bool { item.needsLookup }

    /// Looks the marker up: found → recovered; absent → send (an edited row's new operation).
    func verify(_ item: LoadedItem, _ prepared: inout Prepared, failures: Int) async throws(JournalError) -> Bool {
        // A miss proves absence only once the server's search has caught up with the ambiguous
        // send: the lookup goes `reconcileDelay` after it. An entry an earlier run left waits the
        // whole delay too, from now: the journal knows when it was marked in flight, not when its
        // create went out (see `BatchedLookups`), and every send of it was before this run.
        let wait = reconcileDelay
        // The first lookup of an entry the batch already looked up costs no request.
        let known = failures == 0 && item.needsLookup ? prefetched[item.marker] : nil
        guard try await settleByLookup(item, after: wait, failures: failures, known: known) else { return false }
        if let replacement = item.replacement {
            prepared.body = prepared.links.body(of: replacement.operation)
            try await committer.replaceOperation(
                item.entryID, operation: StoredOperation(replacement.operation), bodyHash: replacement.bodyHash)
        } else {
            try committer.post(AttemptOutcome(entryID: item.entryID, state: .pending, endsAttempt: false))
        }
        return true
    }

    func send(_ prepared: Prepared) async throws(APIError) -> CryptlexClient.Answer<License> {
        try await client.createLicense(body: prepared.body)
    }

    func answered(_ item: LoadedItem, _ prepared: Prepared, _ answer: CryptlexClient.Answer<License>, sentAt: String)
        throws(JournalError)
    {
        try outcomes.settle(
            AttemptOutcome(
                entryID: item.entryID, state: .created, httpStatus: answer.status,
                licenseID: answer.value.id, licenseKey: answer.value.key, startedAt: sentAt), change: false)
    }

    func failed(
        _ item: LoadedItem, _ prepared: Prepared, _ error: APIError, _ outcome: OutcomeClass, failedAttempts: Int,
        sentAt: String
    ) async throws(JournalError) -> String? {
        try await record(error, outcome, failedAttempts: failedAttempts, item: item, sentAt: sentAt)
    }

    /// A send that failed for good, or stopped the run: records it. Returns the server's message
    /// for a 4xx other than 409 (the run's first license decides whether to go on).
    private func record(
        _ error: APIError, _ outcome: OutcomeClass, failedAttempts: Int, item: LoadedItem,
        sentAt: String
    ) async throws(JournalError) -> String? {
        let message = error.description
        switch outcome {
        case .stopRun, .throttled:
            // The run stops (a refused token, the 429 budget spent): left pending for the rerun.
            try outcomes.leave(
                AttemptOutcome(
                    entryID: item.entryID, state: .pending, httpStatus: error.status, error: message, startedAt: sentAt)
            )
            if outcome == .stopRun {
                logger.error("the API refused the token; stopping", metadata: ["reason": "\(message)"])
            }
            return nil
        case .permanent where error.status == 409 && item.facts.key != nil:
            try await settleDuplicateKey(item, key: item.facts.key ?? "", error: error, sentAt: sentAt)
            return nil
        case .permanent:
            try outcomes.settle(
                AttemptOutcome(
                    entryID: item.entryID, state: .rejected, httpStatus: error.status, error: message, startedAt: sentAt
                ),
                change: false)
            return "HTTP \(error.status.map(String.init) ?? "?"): \(message)"
        case .retryable, .ambiguous:
            try outcomes.settle(
                AttemptOutcome(
                    entryID: item.entryID, state: .failed, httpStatus: error.status,
                    error: "\(message) (gave up after \(failedAttempts) attempts)", startedAt: sentAt), change: false)
            return nil
        }
    }

    /// Looks up a license that may exist. Returns true when the caller should send it (nothing
    /// was found); false when the entry is settled or left for the next run.
    private func settleByLookup(
        _ item: LoadedItem, after delay: Duration, failures: Int,
        known: [License]?
    ) async throws(JournalError) -> Bool {
        let lookup: Lookup
        if let known {
            lookup = known.isEmpty ? .absent : known.count == 1 ? .found(known[0]) : .several(known)
        } else {
            lookup = await lookUp(item, after: delay)
        }
        switch lookup {
        case .found(let license):
            try outcomes.settle(
                AttemptOutcome(
                    entryID: item.entryID, state: .recovered, licenseID: license.id,
                    licenseKey: license.key, error: nil, endsAttempt: false), change: false)
        case .several(let licenses):
            try outcomes.settle(
                AttemptOutcome(
                    entryID: item.entryID, state: .conflict, licenseID: licenses[0].id, licenseKey: licenses[0].key,
                    error:
                        "the marker \(item.marker) is on \(licenses.count) licenses: \(licenses.map(\.id).joined(separator: ", ")); none was created again",
                    endsAttempt: false), change: false)
        case .impossible:
            try outcomes.settle(
                AttemptOutcome(
                    entryID: item.entryID, state: .unresolved,
                    error:
                        "the outcome is unknown and the row has no marker or key to look it up by; check the account before sending it again",
                    endsAttempt: false), change: false)
        case .unavailable(let reason):
            // Left in flight: the next run looks it up again before sending anything.
            try outcomes.leave()
            logger.warning(
                "lookup failed; the next run checks again", metadata: ["row": "\(item.rowID)", "reason": "\(reason)"])
        case .absent where failures >= requests.policy.maxAttempts:
            try outcomes.settle(
                AttemptOutcome(
                    entryID: item.entryID, state: .failed,
                    error: "no answer after \(failures) attempts (each looked up: not created)", endsAttempt: false),
                change: false)
        case .absent:
            return true
        }
        return false
    }

    /// A 409 for a row with its own key: the key exists. Ours (our marker) → recovered;
    /// otherwise a conflict, never retried.
    private func settleDuplicateKey(_ item: LoadedItem, key: String, error: APIError, sentAt: String)
        async throws(JournalError)
    {
        let productId = item.facts.productId
        switch await find(LicenseQuery(key: key), matching: { $0.key == key }) {
        case .success(let licenses):
            if let license = licenses.first, let markerKey, license.metadataValue(forKey: markerKey) == item.marker,
                license.productId == nil || license.productId == productId
            {
                try outcomes.settle(
                    AttemptOutcome(
                        entryID: item.entryID, state: .recovered, httpStatus: error.status,
                        licenseID: license.id, licenseKey: license.key, startedAt: sentAt), change: false)
            } else if let license = licenses.first {
                try outcomes.settle(
                    AttemptOutcome(
                        entryID: item.entryID, state: .conflict, httpStatus: error.status,
                        error:
                            "the key is already used by license \(license.id)\(license.productId.map { " (product \($0))" } ?? ""), which licprov did not create for this row",
                        startedAt: sentAt),
                    change: false)
            } else {
                try outcomes.settle(
                    AttemptOutcome(
                        entryID: item.entryID, state: .rejected, httpStatus: error.status,
                        error: error.description, startedAt: sentAt), change: false)
            }
        case .failure(let reason):
            try outcomes.settle(
                AttemptOutcome(
                    entryID: item.entryID, state: .rejected, httpStatus: error.status,
                    error: "\(error.description); the lookup of the key failed too: \(reason.reason)", startedAt: sentAt
                ),
                change: false)
        }
    }

    enum Lookup {
        case found(License)
        case several([License])
        case absent
        /// Neither a marker nor a key to search by.
        case impossible
        /// The lookup itself failed; the entry stays in flight.
        case unavailable(String)
    }

    /// Finds the license an ambiguous send may have created: by marker, or by key without one.
    private func lookUp(_ item: LoadedItem, after delay: Duration) async -> Lookup {
        if let markerLookups, markerKey != nil, !item.marker.isEmpty, !item.marker.contains(",") {
            return await markerLookups.lookUp(item.marker, after: delay)
        }
        if delay > .zero {
            do { try await requests.clock.sleep(for: delay) } catch { return .unavailable("cancelled") }
        }
        let result: Result<[License], RunRequests.ReadFailure>
        if let markerKey {
            result = await find(LicenseQuery(metadataKey: markerKey, metadataValue: item.marker)) {
                $0.metadataValue(forKey: markerKey) == item.marker
            }
        } else if case let facts = item.facts, let key = facts.key {
            result = await find(LicenseQuery(key: key)) {
                $0.key == key && ($0.productId == nil || $0.productId == facts.productId)
            }
        } else {
            return .impossible
        }
        switch result {
        case .success(let licenses):
            switch licenses.count {
            case 0: return .absent
            case 1: return .found(licenses[0])
            default: return .several(licenses)
            }
        case .failure(let failure):
            return .unavailable(failure.reason)
        }
    }

    /// One `GET /v3/licenses`, through the run's requests; keeps the matches.
    private func find(_ query: LicenseQuery, matching: (License) -> Bool) async -> Result<
        [License], RunRequests.ReadFailure
    > {
        await requests.read(count: { $0.lookups += 1 }) { () async throws(APIError) in
            try await client.findLicenses(query, page: 1, limit: 100)
        }.map { $0.filter(matching) }
    }

}

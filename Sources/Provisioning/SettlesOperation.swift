import APIRequests
import CryptlexAPI
import Journal
import Scheduling

/// The one state machine every license operation goes through — a create (``LicenseWorker``) or a
/// change (``ChangeWorker``: update, renew, set-expiry, suspend, revoke, delete and their undoing) —
/// with what differs between them asked of the operation:
///
/// ```
/// prepare (the linked ids; a change's target found and its before-state recorded)
///    │
///    ▼           ┌──────────── not applied: send (again) ◄──────────┐
/// [verify first] ┤                                                  │
///    │           └─ applied / several / unknowable: recorded, done  │
///    ▼                                                              │
/// send: marked in flight durably, through the run's limiter and retries
///    ├─ answered: recorded
///    ├─ ambiguous (a lost answer, a 5xx): recorded in flight ─► verify
///    ├─ refused, or attempts used up: the operation records it
///    └─ not sent (the run stops): left for the next run
/// ```
///
/// *Verify* is the operation's: a create looks its marker up (a license with it exists: recovered;
/// none: send again, once the search has caught up); a change reads its license and compares it
/// with what it sends (or, for a renewal, with the expiry recorded before the first send).
protocol SettlesOperation: Sendable {
    /// What the sends need, found before the first one.
    associatedtype Prepared: Sendable
    /// What a successful send answers.
    associatedtype Value: Sendable

    var requests: RunRequests { get }
    var committer: JournalCommitter { get }
    var maxFailures: Int { get }

    /// Finds what the first send needs; nil when the item is already settled or left for the next
    /// run (its outcome recorded).
    func prepare(_ item: LoadedItem) async throws(JournalError) -> Prepared?
    /// What ``verify(_:_:failures:)`` needs for an item whose row left the file, found without a
    /// write (no customer created, no target recorded); nil when it cannot be verified.
    func preparedToVerify(_ item: LoadedItem) -> Prepared?
    /// Whether the item may have taken effect already (an earlier run's ambiguous send).
    func verifiesFirst(_ item: LoadedItem, _ prepared: Prepared) -> Bool
    /// Whether an earlier send took effect. Records a settled outcome and returns false; returns
    /// true when the operation must be sent (again). `failures`: the failed attempts so far (a
    /// create that is still absent after the last one is recorded failed).
    func verify(_ item: LoadedItem, _ prepared: inout Prepared, failures: Int) async throws(JournalError) -> Bool
    func send(_ prepared: Prepared) async throws(APIError) -> CryptlexClient.Answer<Value>
    /// Records a successful answer.
    func answered(_ item: LoadedItem, _ prepared: Prepared, _ answer: CryptlexClient.Answer<Value>, sentAt: String)
        throws(JournalError)
    /// Records a send that failed for good or stopped the run; returns the server's message when it
    /// should decide about the rest of the run (a create's first license refused).
    func failed(
        _ item: LoadedItem, _ prepared: Prepared, _ error: APIError, _ outcome: OutcomeClass, failedAttempts: Int,
        sentAt: String
    ) async throws(JournalError) -> String?
}

extension SettlesOperation {
    /// Where outcomes are recorded, and counted from.
    var outcomes: OutcomeRecorder {
        OutcomeRecorder(committer: committer, requests: requests, maxFailures: maxFailures)
    }

    /// Settles `item`. Throws only ``JournalError``: a journal that cannot record is the end of the
    /// run. Returns what ``failed(_:_:_:_:failedAttempts:sentAt:)`` says for the first-item gate.
    @discardableResult
    func settle(_ item: LoadedItem) async throws(JournalError) -> String? {
        if item.rowGone {
            // Verified, never sent: not applied → back to pending (verify records it), nothing more.
            guard var prepared = preparedToVerify(item) else {
                try outcomes.leave()
                return nil
            }
            if try await verify(item, &prepared, failures: 0) { try outcomes.leaveGone() }
            return nil
        }
        guard var prepared = try await prepare(item) else { return nil }
        var failures = 0
        var verifyFirst = verifiesFirst(item, prepared)
        var markedAhead = item.markedInFlight
        while true {
            if verifyFirst {
                verifyFirst = false
                guard try await verify(item, &prepared, failures: failures) else { return nil }
            }
            if requests.stop.isRequested && (failures > 0 || item.needsLookup) {
                try outcomes.leave()
                return nil
            }
            let current = prepared
            let (ending, sentAt) = try await requests.sendJournaled(
                item.entryID, committer: committer, failedBefore: failures,
                markedAhead: &markedAhead
            ) {
                () async throws(APIError) in try await send(current)
            }
            switch ending {
            case .answered(let answer):
                try answered(item, prepared, answer, sentAt: sentAt)
                return nil
            case .notSent:
                try outcomes.leave()
                if markedAhead { try await committer.unmark([item.entryID]) }
                return nil
            case .failed(_, .ambiguous, let failedAttempts):
                // Recorded in flight: verified before anything is sent again.
                failures = failedAttempts
                verifyFirst = true
            case .failed(let error, let outcome, let failedAttempts):
                return try await failed(item, prepared, error, outcome, failedAttempts: failedAttempts, sentAt: sentAt)
            }
        }
    }
}

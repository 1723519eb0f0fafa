import APIRequests
import CryptlexAPI
import Journal
import Scheduling

/// The loop a customer, an organization and a reseller share on their way from a journal record to
/// a Cryptlex id (``CustomerResolver``, ``DirectoryResolver``):
///
/// ```
/// look it up ──► found: resolved
///    │  (skipped when a batched lookup has just found nothing)
///    ▼ absent
/// create it: marked in flight, durably, before the POST
///    ├─► 201: resolved (created by licprov)
///    ├─► a lost answer, a 5xx, a 409 ──► wait --reconcile-delay, look it up again (never a blind second create)
///    ├─► a refusal (4xx): failed for good, with the server's message
///    └─► attempts used up, the run stopping: not resolved now (the next run looks first)
/// ```
protocol FindsOrCreates: ResolvesOnce where Outcome == Result<String, CustomerResolver.Failure> {
    /// What is resolved (a customer's record; an organization with its reseller's id).
    associatedtype Record: Sendable
    /// What a create answers.
    associatedtype Created: Sendable
    var requests: RunRequests { get }
    var reconcileDelay: Duration { get }
    /// Looks `record` up: its Cryptlex id once found (recorded resolved, `createdByUs` as given),
    /// nil when there is none, or why it cannot be resolved.
    func lookUp(_ record: Record, createdByUs: Bool) async -> Result<String?, CustomerResolver.Failure>
    /// The create for `record`, its request built now, or why none may be sent.
    func creation(of record: Record) async -> Result<Creation<Created>, CustomerResolver.Failure>
}

/// One create of a ``FindsOrCreates`` loop: the request and how its outcome is recorded.
struct Creation<Created: Sendable>: Sendable {
    /// For messages: `customer ann@example.com`, `organization "Acme"`.
    var what: String
    var count: @Sendable (inout RunCounts) -> Void
    /// Durably, before the request goes out: a crash from then on is settled by the lookup.
    var markInFlight: @Sendable () throws(JournalError) -> Void
    var send: @Sendable () async throws(APIError) -> CryptlexClient.Answer<Created>
    /// Records the created record resolved; returns its Cryptlex id.
    var recordCreated: @Sendable (Created) throws(JournalError) -> String
    var recordFailed: @Sendable (String) -> Void
}

extension FindsOrCreates {
    /// Runs the loop for `record`. `inFlight`: an earlier run sent its create (the lookup decides
    /// whether licprov made it); `lookFirst`: false when a batched lookup has just found nothing.
    func findOrCreate(_ record: Record, inFlight: Bool, lookFirst: Bool) async -> Result<
        String, CustomerResolver.Failure
    > {
        typealias Failure = CustomerResolver.Failure
        var failures = 0
        var conflicts = 0
        var sentCreate = inFlight
        var look = lookFirst
        if inFlight {
            // An earlier run sent its create (killed, or its answer lost): the search may not show
            // what it made yet, and an absence is proof only once the delay has passed — names are
            // not unique, a second create would make a second organization.
            try? await requests.clock.sleep(for: reconcileDelay)
        }
        while true {
            if look {
                switch await lookUp(record, createdByUs: sentCreate) {
                case .success(let found?): return .success(found)
                case .success(nil): break
                case .failure(let failure): return .failure(failure)
                }
            }
            look = true
            let creation: Creation<Created>
            switch await self.creation(of: record) {
            case .success(let made): creation = made
            case .failure(let failure): return .failure(failure)
            }
            let stopped = Failure(message: "the run stopped before the \(creation.what) was created", permanent: false)
            if requests.stop.isRequested { return .failure(stopped) }
            let ending: RunRequests.Ending<Created>
            do {
                ending = try await requests.send(
                    failedBefore: failures, count: { counts, _ in creation.count(&counts) },
                    beforeSend: { (_: Bool) async throws(JournalError) in try creation.markInFlight() },
                    creation.send)
            } catch {
                return .failure(Failure(message: error.localizedDescription, permanent: false))
            }
            switch ending {
            case .answered(let created):
                do { return .success(try creation.recordCreated(created.value)) } catch {
                    return .failure(Failure(message: error.localizedDescription, permanent: false))
                }
            case .notSent:
                return .failure(stopped)
            case .failed(let error, .permanent, _) where error.status == 409:
                // It exists now (someone made it meanwhile, or a create of ours): the lookup finds it.
                // Bounded: a server that refuses the create as existing while its search never
                // shows it would otherwise be asked forever (the simulation found the loop).
                sentCreate = true
                conflicts += 1
                guard conflicts < requests.policy.maxAttempts else {
                    let message =
                        "the \(creation.what) exists (409) but \(conflicts) lookups did not find it: \(error.description)"
                    return .failure(Failure(message: message, permanent: false))
                }
                try? await requests.clock.sleep(for: reconcileDelay)
            case .failed(let error, .permanent, _):
                let message = "the \(creation.what) could not be created: \(error.description)"
                creation.recordFailed(message)
                return .failure(Failure(message: message, permanent: true))
            case .failed(let error, .ambiguous, let failedAttempts):
                // Perhaps created: the lookup settles it, once the search has caught up.
                sentCreate = true
                failures = failedAttempts
                guard failures < requests.policy.maxAttempts else {
                    return .failure(Failure(message: error.description, permanent: false))
                }
                try? await requests.clock.sleep(for: reconcileDelay)
            case .failed(let error, _, _):
                // Attempts used up, the 429 budget spent, or a refused token (the run stops).
                return .failure(Failure(message: error.description, permanent: false))
            }
        }
    }
}

import APIRequests
import CryptlexModels
import Journal

/// The ids a license links to — its customer's user, its organization, its reseller — resolved
/// (nil: the license links to none of that kind). The journal's operation knows only that it links
/// to them (the entry's references); they go into the request when it is encoded, just before the send.
struct Links {
    var userID: String?
    var organizationID: String?
    var resellerID: String?

    /// The request `operation` sends, with these ids.
    func body(of operation: LicenseOperation) -> [UInt8] {
        operation.wireBody(userID: userID, organizationID: organizationID, resellerID: resellerID)
    }

    /// The ids `item` links to, or nil when one could not be resolved: then nothing was sent, and
    /// the entry is recorded rejected (the customer cannot be made) or failed (try again later).
    static func resolve(
        for item: LoadedItem, customers: CustomerResolver, directory: DirectoryResolver?, requests: RunRequests,
        committer: JournalCommitter, maxFailures: Int
    ) async throws(JournalError) -> Links? {
        var links = Links()
        func fail(_ noun: String, _ failure: CustomerResolver.Failure) throws(JournalError) {
            try OutcomeRecorder(committer: committer, requests: requests, maxFailures: maxFailures).settle(
                AttemptOutcome(
                    entryID: item.entryID, state: failure.permanent ? .rejected : .failed,
                    error: "\(noun): \(failure.message)",
                    endsAttempt: false),
                change: item.change != nil)
        }
        if let ref = item.resellerRef, let directory {
            switch await directory.remoteID(for: ref) {
            case .success(let id): links.resellerID = id
            case .failure(let failure):
                try fail("reseller", failure)
                return nil
            }
        }
        if let ref = item.organizationRef, let directory {
            switch await directory.remoteID(for: ref) {
            case .success(let id): links.organizationID = id
            case .failure(let failure):
                try fail("organization", failure)
                return nil
            }
        }
        if let ref = item.customerRef {
            switch await customers.userID(for: ref) {
            case .success(let id): links.userID = id
            case .failure(let failure):
                try fail("customer", failure)
                return nil
            }
        }
        return links
    }
}

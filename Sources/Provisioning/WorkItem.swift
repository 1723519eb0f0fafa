import CryptlexModels
import Foundation
import Ingestion

/// One license a run must settle: send it, or first find out whether an earlier send took effect.
///
/// Small on purpose (the operation stays in the journal until the worker takes the item), so a run
/// of 100,000 licenses holds 100,000 of these and not their requests.
struct WorkItem: Sendable {
    var entryID: Int64
    /// Left in flight by an earlier run: look it up before anything is sent.
    var needsLookup: Bool
    /// The row changed in the file while its entry was in flight: if the lookup finds nothing,
    /// send this operation instead (same marker).
    var replacement: Replacement?
    /// Its row is no longer in the file (removed, or now invalid or skipped) but a send of it may
    /// have taken effect: find out (look the license up, read the change's license), never send.
    var rowGone = false

    init(entryID: Int64, needsLookup: Bool, replacement: Replacement? = nil, rowGone: Bool = false) {
        self.entryID = entryID
        self.needsLookup = needsLookup
        self.replacement = replacement
        self.rowGone = rowGone
    }
}

/// The row's new operation for an entry edited while in flight, and its fingerprint. Boxed: a plan
/// holds a work item for every license of a file, and an operation inline would make each of them
/// hundreds of bytes (a 30,000-license run peaked 45 MiB higher when it was).
final class Replacement: Sendable {
    let operation: LicenseOperation
    let bodyHash: String

    init(operation: LicenseOperation, bodyHash: String) {
        self.operation = operation
        self.bodyHash = bodyHash
    }
}

/// What a worker needs of an entry, loaded from the journal when it takes the item.
struct LoadedItem: Sendable {
    var entryID: Int64
    var rowID: String
    var marker: String
    /// A create's request, typed, with its marker (nil for a change); the linked ids go in when it is encoded for the send.
    var request: LicenseRequest?
    var needsLookup: Bool
    /// The row's new operation, for an entry edited while in flight: sent if the lookup finds nothing.
    var replacement: Replacement?
    /// Already marked in flight by the feed: the first attempt goes out without another commit.
    var markedInFlight = false
    /// The customer whose user id goes into the request when it is encoded for the send.
    var customerRef: Int64?
    /// The organization and reseller whose ids go into the request when it is encoded for the send.
    var organizationRef: Int64?
    var resellerRef: Int64?
    /// A row that changes an existing license (nil: a create).
    var change: Change?
    /// Its row is no longer in the file: settled by a lookup or a read alone (``WorkItem/rowGone``).
    var rowGone = false

    struct Change: Sendable {
        var operation: LicenseOperation
        var target: LicenseTarget?
        /// Written before the first send; nil: never sent.
        var beforeState: String?
        var licenseID: String?
        /// Some send had an ambiguous outcome: read the license before sending again.
        var maybeSent: Bool
    }

    /// The create's own `key` and `productId` (read after a 409, or to look a create up by its key).
    var facts: (key: String?, productId: String) {
        (request?.key, request?.productId ?? "")
    }
}

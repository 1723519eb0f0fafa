import CryptlexModels
import Foundation
import Ingestion

/// One license a run must settle: send it, or first find out whether an earlier send took effect.
///
/// Small on purpose (the body stays in the journal until the worker takes the item), so a run of
/// 100,000 licenses holds 100,000 of these and not their bodies.
struct WorkItem: Sendable {
    var entryID: Int64
    /// Left in flight by an earlier run: look it up before anything is sent.
    var needsLookup: Bool
    /// The row changed in the file while its entry was in flight: if the lookup finds nothing,
    /// send this body instead (same marker).
    var replacement: (body: [UInt8], bodyHash: String)?

    init(entryID: Int64, needsLookup: Bool, replacement: (body: [UInt8], bodyHash: String)? = nil) {
        self.entryID = entryID
        self.needsLookup = needsLookup
        self.replacement = replacement
    }
}

/// What a worker needs of an entry, loaded from the journal when it takes the item.
struct LoadedItem: Sendable {
    var entryID: Int64
    var rowID: String
    var marker: String
    var body: [UInt8]
    var needsLookup: Bool
    var replacement: (body: [UInt8], bodyHash: String)?
    /// Already marked in flight by the feed: the first attempt goes out without another commit.
    var markedInFlight = false
    /// The customer whose user id goes into the body before it is sent.
    var customerRef: Int64?
    /// The organization and reseller whose ids go into the body before it is sent.
    var organizationRef: Int64?
    var resellerRef: Int64?
    /// When the journal entry last changed (for an entry an earlier run left, when its last send
    /// ended or the run was killed).
    var changedAt: Date?
    /// A row that changes an existing license (nil: a create).
    var change: Change?

    struct Change: Sendable {
        var action: LicenseAction
        var target: LicenseTarget?
        /// Written before the first send; nil: never sent.
        var beforeState: String?
        var licenseID: String?
        /// Some send had an ambiguous outcome: read the license before sending again.
        var maybeSent: Bool
    }

    /// What is left of `delay` since the entry last changed (all of it when that is unknown).
    func remaining(of delay: Duration) -> Duration { delay.remaining(since: changedAt) }

    /// The body's own `key` and `productId` (read only on the rare paths that need them).
    var facts: (key: String?, productId: String) {
        let object = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]
        return (object?["key"] as? String, object?["productId"] as? String ?? "")
    }
}


extension Duration {
    /// What is left of this delay since `start` (all of it when `start` is unknown): the wait
    /// before a lookup that must come this long after an entry last changed.
    func remaining(since start: Date?) -> Duration {
        guard let start else { return self }
        let left = secondsValue - Date().timeIntervalSince(start)
        return left > 0 ? Duration(secondsValue: left) : .zero
    }
}

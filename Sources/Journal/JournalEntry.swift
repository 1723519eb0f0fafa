import CryptlexModels
import Foundation

/// One license to create, as the journal knows it.
package struct JournalEntry: Sendable, Equatable {
    /// Where an entry stands.
    ///
    /// ```
    /// pending ──► inFlight ──► created
    ///    ▲           │  ├────► rejected    (4xx: the server refused this body)
    ///    │           │  ├────► failed      (retryable failures, attempts used up)
    ///    └───────────┘  ├────► recovered   (ambiguous; the lookup found it)
    ///   (retryable, or  ├────► conflict    (its key is someone else's; its marker is on two licenses)
    ///    ambiguous and  └────► unresolved  (ambiguous, and nothing to look it up by)
    ///    not found)
    /// ```
    /// An entry left inFlight by a crash is looked up before anything else on the next run.
    /// A rerun sends pending and failed entries again; rejected, conflict and unresolved ones only
    /// when the row changed in the file; created and recovered ones never.
    package enum State: String, Sendable, CaseIterable {
        case pending, inFlight, created, recovered, failed, rejected, conflict, unresolved

        /// Done for good: a rerun sends nothing for it.
        package var isSettled: Bool { self == .created || self == .recovered }

        /// A rerun with the same row sends it again.
        package var isRetriedOnRerun: Bool { self == .pending || self == .failed || self == .inFlight }
    }

    package var id: Int64
    /// The row's identity (an order id, or `#N`).
    package var rowID: String
    /// Which of the row's `quantity` licenses (1-based).
    package var unit: Int
    package var sourceLine: Int
    /// What the entry does (nil when a listing did not read it: ``SQLiteJournal/Operations``).
    /// Its request is encoded at send time, with the linked ids filled in.
    package var operation: LicenseOperation?
    /// A stable fingerprint of the row, to notice a row edited in the file since it was journaled.
    package var bodyHash: String
    /// The value of the marker metadata entry that makes the license findable.
    package var marker: String
    package var state: State
    package var attempts: Int
    package var licenseID: String?
    package var licenseKey: String?
    package var httpStatus: Int?
    package var error: String?
    /// The row's operation as the file had it last, when it differs from a settled entry's.
    package var editedOperation: LicenseOperation?
    /// The customer the license is for (its `userId` is filled in once the customer is resolved).
    package var customerRef: Int64?
    /// Some send of it had an ambiguous outcome: the license may exist, so it is looked up before
    /// it is ever sent again.
    package var maybeSent = false
    /// When the entry last changed (``SQLiteJournal/timestamp()``).
    package var updatedAt: String = ""
    /// `create`, or the change the row asks for (`renew`, `revoke`, …): ``operation``'s action, in a
    /// column of its own so listings and counts need not decode operations.
    package var action = LicenseAction.create
    /// A change's target (the journal keeps it as ``LicenseTarget/journalText``).
    package var target: LicenseTarget?
    /// A change's fields as they were before its first send (JSON), or nil before it is read.
    package var beforeState: String?
    /// The expiry a renew or set-expiry left.
    package var afterExpiry: String?
    /// The organization and reseller the license is linked to (their ids go into the body once resolved).
    package var organizationRef: Int64?
    package var resellerRef: Int64?

    /// ``updatedAt`` as a date.
    package var changedAt: Date? { SQLiteJournal.date(updatedAt) }
}

/// What a caller registers before anything is sent.
package struct Intent: Sendable, Equatable {
    package var rowID: String
    package var unit: Int
    package var sourceLine: Int
    package var operation: StoredOperation
    package var bodyHash: String
    package var marker: String
    /// `pending`, or `rejected` for a row that failed validation (with its `error`).
    package var state: JournalEntry.State
    package var error: String?
    package var customerRef: Int64?
    package var organizationRef: Int64?
    package var resellerRef: Int64?
    package var target: LicenseTarget?

    package init(
        rowID: String, unit: Int, sourceLine: Int, operation: StoredOperation, bodyHash: String, marker: String,
        state: JournalEntry.State = .pending, error: String? = nil, customerRef: Int64? = nil,
        target: LicenseTarget? = nil, organizationRef: Int64? = nil, resellerRef: Int64? = nil
    ) {
        self.organizationRef = organizationRef
        self.resellerRef = resellerRef
        self.target = target
        self.customerRef = customerRef
        self.rowID = rowID
        self.unit = unit
        self.sourceLine = sourceLine
        self.operation = operation
        self.bodyHash = bodyHash
        self.marker = marker
        self.state = state
        self.error = error
    }
}

/// What the journal knows of an entry, in brief: enough to decide what a row needs.
package struct EntryDigest: Sendable, Equatable {
    package var id: Int64
    package var rowID: String
    package var unit: Int
    package var sourceLine: Int
    package var bodyHash: String
    package var state: JournalEntry.State
    package var editedHash: String?
    /// See ``JournalEntry/maybeSent``.
    package var maybeSent = false
}

/// A change to an existing entry made while registering a file's rows, applied in batches.
package enum EntryChange: Sendable, Equatable {
    /// The row changed before anything was sent for it: send (or reject) the new operation, with
    /// the target the row asks for now (a row may turn from a create into a change).
    /// `marker`, when given, replaces the entry's marker (a change row that became a create gets a
    /// create's marker; nothing was sent under the old one).
    case replaceOperation(
        id: Int64, operation: StoredOperation, bodyHash: String, state: JournalEntry.State, error: String?,
        customerRef: Int64? = nil,
        target: LicenseTarget? = nil, marker: String? = nil, organizationRef: Int64? = nil, resellerRef: Int64? = nil)
    /// The row moved in the file.
    case moveTo(id: Int64, sourceLine: Int)
    /// The row of a settled entry differs from what was sent (nil: it no longer does).
    case noteEdit(id: Int64, operation: StoredOperation?, bodyHash: String?)
}

/// One run, as the journal recorded it.
package struct RunRecord: Sendable, Equatable {
    package var id: Int64
    package var startedAt: String
    package var endedAt: String?
    package var command: String
    package var version: String
    package var outcome: String?
    package var summary: String?
}

/// How one attempt ended, recorded in one transaction with the entry's new state.
package struct AttemptOutcome: Sendable, Equatable {
    package var entryID: Int64
    package var state: JournalEntry.State
    package var httpStatus: Int?
    package var licenseID: String?
    package var licenseKey: String?
    package var error: String?
    /// False for a settlement that followed a lookup rather than a send (no attempt to close).
    package var endsAttempt: Bool
    /// When the attempt was sent (``SQLiteJournal/timestamp()``); nil: now.
    package var startedAt: String?
    /// The expiry a renew or set-expiry left (nil: unchanged in the journal).
    package var afterExpiry: String?

    package init(
        entryID: Int64, state: JournalEntry.State, httpStatus: Int? = nil, licenseID: String? = nil,
        licenseKey: String? = nil,
        error: String? = nil, endsAttempt: Bool = true, startedAt: String? = nil, afterExpiry: String? = nil
    ) {
        self.afterExpiry = afterExpiry
        self.endsAttempt = endsAttempt
        self.startedAt = startedAt
        self.entryID = entryID
        self.state = state
        self.httpStatus = httpStatus
        self.licenseID = licenseID
        self.licenseKey = licenseKey
        self.error = error
    }
}

import CryptlexModels
import Foundation

/// One license to create, as the journal knows it.
public struct JournalEntry: Sendable, Equatable {
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
    public enum State: String, Sendable, CaseIterable {
        case pending, inFlight, created, recovered, failed, rejected, conflict, unresolved

        /// Done for good: a rerun sends nothing for it.
        public var isSettled: Bool { self == .created || self == .recovered }

        /// A rerun with the same row sends it again.
        public var isRetriedOnRerun: Bool { self == .pending || self == .failed || self == .inFlight }
    }

    public var id: Int64
    /// The row's identity (an order id, or `#N`).
    public var rowID: String
    /// Which of the row's `quantity` licenses (1-based).
    public var unit: Int
    public var sourceLine: Int
    /// The exact JSON body to send (never a token).
    public var body: [UInt8]
    /// A stable fingerprint of the body, to notice a row edited in the file since it was journaled.
    public var bodyHash: String
    /// The value of the marker metadata entry that makes the license findable.
    public var marker: String
    public var state: State
    public var attempts: Int
    public var licenseID: String?
    public var licenseKey: String?
    public var httpStatus: Int?
    public var error: String?
    /// The row's body as the file had it last, when it differs from the body of a settled entry.
    public var editedBody: [UInt8]?
    /// The customer the license is for (its `userId` is filled in once the customer is resolved).
    public var customerRef: Int64?
    /// Some send of it had an ambiguous outcome: the license may exist, so it is looked up before
    /// it is ever sent again.
    public var maybeSent = false
    /// When the entry last changed (``SQLiteJournal/timestamp()``).
    public var updatedAt: String = ""
    /// `create`, or the change the row asks for (`renew`, `revoke`, …).
    public var action = LicenseAction.create
    /// A change's target (the journal keeps it as ``LicenseTarget/journalText``).
    public var target: LicenseTarget?
    /// A change's fields as they were before its first send (JSON), or nil before it is read.
    public var beforeState: String?
    /// The expiry a renew or set-expiry left.
    public var afterExpiry: String?

    /// ``updatedAt`` as a date.
    public var changedAt: Date? { SQLiteJournal.date(updatedAt) }
}

/// What a caller registers before anything is sent.
public struct Intent: Sendable, Equatable {
    public var rowID: String
    public var unit: Int
    public var sourceLine: Int
    public var body: [UInt8]
    public var bodyHash: String
    public var marker: String
    /// `pending`, or `rejected` for a row that failed validation (with its `error`).
    public var state: JournalEntry.State
    public var error: String?
    public var customerRef: Int64?
    public var action = LicenseAction.create
    public var target: LicenseTarget?

    public init(rowID: String, unit: Int, sourceLine: Int, body: [UInt8], bodyHash: String, marker: String,
                state: JournalEntry.State = .pending, error: String? = nil, customerRef: Int64? = nil,
                action: LicenseAction = .create, target: LicenseTarget? = nil) {
        self.action = action
        self.target = target
        self.customerRef = customerRef
        self.rowID = rowID
        self.unit = unit
        self.sourceLine = sourceLine
        self.body = body
        self.bodyHash = bodyHash
        self.marker = marker
        self.state = state
        self.error = error
    }
}

/// What the journal knows of an entry, in brief: enough to decide what a row needs.
public struct EntryDigest: Sendable, Equatable {
    public var id: Int64
    public var rowID: String
    public var unit: Int
    public var sourceLine: Int
    public var bodyHash: String
    public var state: JournalEntry.State
    public var editedHash: String?
    /// See ``JournalEntry/maybeSent``.
    public var maybeSent = false
}

/// A change to an existing entry made while registering a file's rows, applied in batches.
public enum EntryChange: Sendable, Equatable {
    /// The row changed before anything was sent for it: send (or reject) the new body, with the
    /// action and target the row asks for now (a row may turn from a create into a change).
    case replaceBody(id: Int64, body: [UInt8], bodyHash: String, state: JournalEntry.State, error: String?, customerRef: Int64? = nil,
                     action: LicenseAction = .create, target: LicenseTarget? = nil)
    /// The row moved in the file.
    case moveTo(id: Int64, sourceLine: Int)
    /// The row of a settled entry differs from what was sent (nil: it no longer does).
    case noteEdit(id: Int64, body: [UInt8]?, bodyHash: String?)
}

/// One run, as the journal recorded it.
public struct RunRecord: Sendable, Equatable {
    public var id: Int64
    public var startedAt: String
    public var endedAt: String?
    public var command: String
    public var version: String
    public var outcome: String?
    public var summary: String?
}

/// How one attempt ended, recorded in one transaction with the entry's new state.
public struct AttemptOutcome: Sendable, Equatable {
    public var entryID: Int64
    public var state: JournalEntry.State
    public var httpStatus: Int?
    public var licenseID: String?
    public var licenseKey: String?
    public var error: String?
    /// False for a settlement that followed a lookup rather than a send (no attempt to close).
    public var endsAttempt: Bool
    /// When the attempt was sent (``SQLiteJournal/timestamp()``); nil: now.
    public var startedAt: String?
    /// The expiry a renew or set-expiry left (nil: unchanged in the journal).
    public var afterExpiry: String?

    public init(entryID: Int64, state: JournalEntry.State, httpStatus: Int? = nil, licenseID: String? = nil, licenseKey: String? = nil,
                error: String? = nil, endsAttempt: Bool = true, startedAt: String? = nil, afterExpiry: String? = nil) {
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

/// One license to create, as the journal knows it.
public struct JournalEntry: Sendable, Equatable {
    /// Where an entry stands. Transitions: pending → inFlight → created | failed | pending (retry);
    /// inFlight left by a crash → reconciled (recovered, or pending again); rejected and conflict
    /// are final until the row changes in the file.
    public enum State: String, Sendable, CaseIterable {
        case pending, inFlight, created, recovered, failed, rejected, conflict

        /// Done for good: a rerun sends nothing for it.
        public var isSettled: Bool { self == .created || self == .recovered }
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
}

/// What a caller registers before anything is sent.
public struct Intent: Sendable, Equatable {
    public var rowID: String
    public var unit: Int
    public var sourceLine: Int
    public var body: [UInt8]
    public var bodyHash: String
    public var marker: String

    public init(rowID: String, unit: Int, sourceLine: Int, body: [UInt8], bodyHash: String, marker: String) {
        self.rowID = rowID
        self.unit = unit
        self.sourceLine = sourceLine
        self.body = body
        self.bodyHash = bodyHash
        self.marker = marker
    }
}

/// How one attempt ended, recorded in one transaction with the entry's new state.
public struct AttemptOutcome: Sendable, Equatable {
    public var entryID: Int64
    public var state: JournalEntry.State
    public var httpStatus: Int?
    public var licenseID: String?
    public var licenseKey: String?
    public var error: String?

    public init(entryID: Int64, state: JournalEntry.State, httpStatus: Int? = nil, licenseID: String? = nil, licenseKey: String? = nil, error: String? = nil) {
        self.entryID = entryID
        self.state = state
        self.httpStatus = httpStatus
        self.licenseID = licenseID
        self.licenseKey = licenseKey
        self.error = error
    }
}

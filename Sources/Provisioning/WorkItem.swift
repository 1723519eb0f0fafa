/// One license a run must settle: send it, or first find out whether an earlier send took effect.
struct WorkItem: Sendable {
    var entryID: Int64
    var rowID: String
    var unit: Int
    /// The marker value, stable across attempts and runs.
    var marker: String
    /// The body to send (with the marker in its metadata).
    var body: [UInt8]
    /// The row's own license key, when it has one (a lookup by key needs it).
    var key: String?
    var productId: String
    /// Left in flight by an earlier run: look it up before anything is sent.
    var needsLookup: Bool
    /// The row changed in the file while its entry was in flight: if the lookup finds nothing,
    /// send this body instead (same marker).
    var replacement: (body: [UInt8], bodyHash: String)?
}

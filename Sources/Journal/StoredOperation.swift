import CryptlexModels

/// A ``LicenseOperation`` as the journal writes it (`license.operation`, and its `action` column
/// beside it for counting without decoding).
///
/// The planner writes one per license of a row: a create's operation is encoded once per row with
/// a placeholder for the marker, and each license gets those bytes with its own marker spliced in
/// (``filled(_:)``: 0.24–0.9 µs a license, where encoding each would take 0.65–2.3 µs with
/// ``LicenseRequest/jsonBody``; `scripts/bench-body.sh`).
package struct StoredOperation: Sendable, Equatable {
    package let action: LicenseAction
    package let bytes: [UInt8]

    package init(_ operation: LicenseOperation) {
        action = operation.action
        bytes = operation.journalBytes
    }

    /// The same operation with `transform` applied to its bytes (a marker written over its
    /// placeholder: the result must still be the same operation's JSON).
    package func filled(_ transform: ([UInt8]) -> [UInt8]) -> StoredOperation {
        StoredOperation(action: action, bytes: transform(bytes))
    }

    /// Bytes known to be `action`'s operation (the v9 migration's).
    init(action: LicenseAction, bytes: [UInt8]) {
        self.action = action
        self.bytes = bytes
    }
}

/// Stood for the ids of the customer, organization and reseller a license links to in the bodies
/// journals kept up to v8, filled in at send time; the v9 migration takes them out (the operation
/// knows its links from the entry's references). The fingerprints of rows still cover them, so a
/// row journaled by an earlier release is not taken for an edited one.
package enum LinkPlaceholder {
    package static let user = "licprov-user-placeholder-2b8d41c6e0f5"
    package static let organization = "licprov-organization-placeholder-5e0a9d"
    package static let reseller = "licprov-reseller-placeholder-c41b7f22"
}

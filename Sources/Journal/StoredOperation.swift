import CryptlexModels

/// A ``LicenseOperation`` as the journal writes it (`license.operation`, and its `action` column
/// beside it for counting without decoding): one for each license, with its own marker, encoded
/// whole (1 µs a create, ``LicenseRequest/canonicalJSON``).
package struct StoredOperation: Sendable, Equatable {
    package let action: LicenseAction
    package let bytes: [UInt8]

    package init(_ operation: LicenseOperation) {
        action = operation.action
        bytes = operation.journalBytes
    }

    /// Bytes known to be `action`'s operation (the v9 migration's).
    init(action: LicenseAction, bytes: [UInt8]) {
        self.action = action
        self.bytes = bytes
    }
}

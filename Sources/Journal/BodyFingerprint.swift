/// A stable fingerprint of bytes (``RowFingerprint``'s canonical encoding of a row): 128 bits of
/// FNV-1a (two 64-bit lanes with different offsets), as 32 hex digits.
///
/// Not a cryptographic hash — nobody is attacking their own order file — but stable across
/// processes and platforms, unlike Swift's seeded `Hasher`.
package enum BodyFingerprint {
    /// The fingerprint as two numbers: what planning keeps for each of a journal's entries (a
    /// hex string would be a heap allocation per entry, 300,000 of them for a nightly rerun).
    package struct Value: Hashable, Sendable {
        package var a: UInt64
        package var b: UInt64

        package var hex: String { BodyFingerprint.hex(a) + BodyFingerprint.hex(b) }

        /// Reads ``hex``; nil for anything else.
        package init?(hex: String) {
            let utf8 = Array(hex.utf8)
            guard utf8.count == 32, let a = UInt64(String(decoding: utf8[0..<16], as: UTF8.self), radix: 16),
                let b = UInt64(String(decoding: utf8[16...], as: UTF8.self), radix: 16)
            else { return nil }
            self.a = a
            self.b = b
        }

        package init(a: UInt64, b: UInt64) {
            self.a = a
            self.b = b
        }
    }

    package static func value(_ bytes: [UInt8]) -> Value {
        var a: UInt64 = 0xcbf2_9ce4_8422_2325
        var b: UInt64 = 0x6c62_272e_07bb_0142
        let prime: UInt64 = 0x0000_0100_0000_01b3
        for byte in bytes {
            a = (a ^ UInt64(byte)) &* prime
            b = (b ^ UInt64(byte ^ 0x5c)) &* prime
        }
        b ^= UInt64(bytes.count)
        return Value(a: a, b: b)
    }

    fileprivate static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}

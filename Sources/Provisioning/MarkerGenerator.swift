import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Fresh markers for new journal entries, written as a version-7 UUID in lower case
/// (`01938f2a-7c41-7d2e-a3c4-…`): the time in milliseconds, then 74 random bits.
///
/// Why not `UUID()`: on Linux, Foundation opens, reads and closes `/dev/urandom` for every UUID —
/// three system calls a marker (`strace -c`: 20,002 opens for 20,000 rows). This draws the random
/// bytes from `/dev/urandom` (`arc4random_buf` on Darwin) 4 KB at a time: one open and one read per
/// 256 markers.
///
/// Why time first: the journal's marker column is a unique index, and random markers land all
/// over it; a registration of a million rows then rewrites index pages scattered beyond any cache.
/// Time-ordered markers are appended to its end. (The time a row was registered is all they
/// tell; the license's own `createdAt` says as much.) Not `Sendable`: each planner owns one.
struct MarkerGenerator {
    private var pool = [UInt8](repeating: 0, count: 4096)
    private var used = 4096

    /// A new marker with `prefix` before it.
    mutating func next(prefix: String = "") -> String {
        if used == pool.count { refill() }
        var bytes = pool[used..<used + 16].map { $0 }
        used += 16
        let milliseconds = UInt64(Date().timeIntervalSince1970 * 1000)
        for index in 0..<6 { bytes[index] = UInt8(truncatingIfNeeded: milliseconds >> (8 * (5 - index))) }
        bytes[6] = (bytes[6] & 0x0F) | 0x70  // version 7
        bytes[8] = (bytes[8] & 0x3F) | 0x80  // RFC 9562 variant
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        var text = [UInt8]()
        text.reserveCapacity(prefix.utf8.count + 36)
        text.append(contentsOf: prefix.utf8)
        for (index, byte) in bytes.enumerated() {
            if index == 4 || index == 6 || index == 8 || index == 10 { text.append(UInt8(ascii: "-")) }
            text.append(hex[Int(byte >> 4)])
            text.append(hex[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    private mutating func refill() {
        pool.withUnsafeMutableBytes { buffer in
            #if canImport(Glibc)
                // /dev/urandom, opened once per refill of 256 markers (getrandom(2) is not in Swift's Glibc module).
                let descriptor = open("/dev/urandom", O_RDONLY | O_CLOEXEC)
                var filled = 0
                if descriptor >= 0 {
                    while filled < buffer.count {
                        let got = read(descriptor, buffer.baseAddress! + filled, buffer.count - filled)
                        if got > 0 { filled += got } else if got < 0 && errno == EINTR { continue } else { break }
                    }
                    close(descriptor)
                }
                if filled < buffer.count {
                    // No /dev/urandom (a chroot without /dev): the standard library's generator, 8 bytes a call.
                    var generator = SystemRandomNumberGenerator()
                    for index in stride(from: 0, to: buffer.count, by: 8) {
                        buffer.storeBytes(of: generator.next(), toByteOffset: index, as: UInt64.self)
                    }
                }
            #else
                arc4random_buf(buffer.baseAddress!, buffer.count)
            #endif
        }
        used = 0
    }
}

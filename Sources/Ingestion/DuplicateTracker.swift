#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Remembers which values a file has used (license keys, row ids) and on which line, in about
/// 17 bytes a value: a 1,000,000-row file with keys and ids needs ~34 MB for both.
///
/// Values are stored as 64-bit hashes of their UTF-8 bytes (SipHash, seeded per process) in 64
/// open-addressing tables with linear probing, one per top six bits of the hash, each grown by
/// half at 85 % load. Growing one table of 64 at a time keeps the peak near the steady size (one
/// big table needs its old and new arrays at once: 2.5 times the steady size while it grows).
/// The tables are mapped from the system directly, not taken from `malloc`, so their growth does
/// not leave holes in the heap that the rows' small allocations then spread over.
///
/// Two different values share a hash with probability about n²/2⁶⁵ — for two million values, one
/// in ten million — and would then be reported as duplicates: visible, never silent.
package struct DuplicateTracker {
    static let shardBits = 6

    private var shards: [Shard]
    package private(set) var count = 0

    package init() {
        shards = (0..<(1 << Self.shardBits)).map { _ in Shard(capacity: 4096) }
    }

    /// The hash a value is tracked by; never 0 (0 marks an empty slot). Safe on any thread, so
    /// the parallel stage hashes and only the insertion stays in file order.
    package static func hash(_ value: String) -> UInt64 {
        var hasher = Hasher()
        var copy = value
        copy.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
        return UInt64(bitPattern: Int64(hasher.finalize())) | 1
    }

    /// Reads the slot where `hash` would go, so that its memory is in the cache by the time
    /// ``insert(hash:line:)`` needs it. Called for a whole batch first, the reads overlap (the
    /// table is far larger than the cache: each insert would otherwise wait for memory alone).
    /// Returns the slot's content only so that the read is not optimised away.
    package func warm(hash: UInt64) -> UInt64 {
        shards[Int(hash >> UInt64(64 - Self.shardBits))].peek(hash)
    }

    /// Records a value, by its ``hash(_:)``, first seen at `line`; returns the earlier line when it
    /// was seen before.
    package mutating func insert(hash: UInt64, line: Int) -> Int? {
        let shard = Int(hash >> UInt64(64 - Self.shardBits))
        if shards[shard].isFull { shards[shard] = shards[shard].grown() }
        let earlier = shards[shard].insert(hash, line: UInt32(clamping: line))
        if earlier == nil { count += 1 }
        return earlier
    }
}

/// One open-addressing table: hashes and their lines, in one anonymous memory mapping.
private final class Shard {
    let capacity: Int
    private(set) var count = 0
    private let mapping: UnsafeMutableRawPointer
    private let byteCount: Int
    private let hashes: UnsafeMutablePointer<UInt64>
    private let lines: UnsafeMutablePointer<UInt32>

    /// - Parameter populate: map every page at once (a grown table is written all over at once,
    ///   and one call costs far less than a page fault per page, in a virtual machine above all).
    init(capacity: Int, populate: Bool = false) {
        self.capacity = capacity
        byteCount = capacity * (MemoryLayout<UInt64>.stride + MemoryLayout<UInt32>.stride)
        // Fresh anonymous pages read as zero, the empty slot, and cost nothing until written.
        var flags = MAP_PRIVATE | MAP_ANONYMOUS
        #if os(Linux)
            if populate { flags |= MAP_POPULATE }
        #endif
        guard let mapped = mmap(nil, byteCount, PROT_READ | PROT_WRITE, flags, -1, 0),
            mapped != MAP_FAILED
        else {
            fatalError("cannot map \(byteCount) bytes for the duplicate check: \(String(cString: strerror(errno)))")
        }
        mapping = mapped
        hashes = mapped.bindMemory(to: UInt64.self, capacity: capacity)
        lines = (mapped + capacity * MemoryLayout<UInt64>.stride).bindMemory(to: UInt32.self, capacity: capacity)
    }

    deinit { munmap(mapping, byteCount) }

    var isFull: Bool { count * 100 >= capacity * 85 }

    /// The home slot of `hash`: the bits below the shard's choose it.
    private func home(of hash: UInt64) -> Int {
        Int((hash << UInt64(DuplicateTracker.shardBits)).multipliedFullWidth(by: UInt64(capacity)).high)
    }

    /// What the home slot of `hash` holds (see ``DuplicateTracker/warm(hash:)``).
    func peek(_ hash: UInt64) -> UInt64 {
        let slot = home(of: hash)
        return hashes[slot] ^ UInt64(lines[slot])
    }

    /// Inserts `hash` (not 0); returns the line stored with it when it was there already.
    func insert(_ hash: UInt64, line: UInt32) -> Int? {
        var slot = home(of: hash)
        while true {
            let stored = hashes[slot]
            if stored == 0 {
                hashes[slot] = hash
                lines[slot] = line
                count += 1
                return nil
            }
            if stored == hash { return Int(lines[slot]) }
            slot += 1
            if slot == capacity { slot = 0 }
        }
    }

    /// A table half as large again with the same entries.
    func grown() -> Shard {
        let bigger = Shard(capacity: capacity + capacity / 2, populate: true)
        for slot in 0..<capacity where hashes[slot] != 0 {
            _ = bigger.insert(hashes[slot], line: lines[slot])
        }
        return bigger
    }
}

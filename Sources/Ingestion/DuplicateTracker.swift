/// Remembers which values a file has used (license keys, row ids) and on which line, in about
/// 15 bytes a value: a 1,000,000-row file with keys and ids fits in ~30 MB.
///
/// Values are stored as 64-bit hashes of their UTF-8 bytes (SipHash, seeded per process) in an
/// open-addressing table with linear probing, grown by half at 85 % load. Two different values
/// share a hash with probability about n²/2⁶⁵ — for two million values, one in ten million —
/// and would then be reported as duplicates: visible, never silent.
public struct DuplicateTracker {
    private var hashes: [UInt64]
    private var lines: [UInt32]
    public private(set) var count = 0

    public init(capacity: Int = 1 << 12) {
        hashes = [UInt64](repeating: 0, count: capacity)
        lines = [UInt32](repeating: 0, count: capacity)
    }

    /// Records `value` first seen at `line`; returns the earlier line when it was seen before.
    public mutating func insert(_ value: String, line: Int) -> Int? {
        var hasher = Hasher()
        var copy = value
        copy.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
        let hash = UInt64(bitPattern: Int64(hasher.finalize())) | 1  // 0 marks an empty slot
        if count * 100 >= hashes.count * 85 { grow() }
        var slot = Int(hash.multipliedFullWidth(by: UInt64(hashes.count)).high)
        while true {
            let stored = hashes[slot]
            if stored == 0 {
                hashes[slot] = hash
                lines[slot] = UInt32(clamping: line)
                count += 1
                return nil
            }
            if stored == hash { return Int(lines[slot]) }
            slot += 1
            if slot == hashes.count { slot = 0 }
        }
    }

    private mutating func grow() {
        let oldHashes = hashes, oldLines = lines
        let capacity = hashes.count + hashes.count / 2
        hashes = [UInt64](repeating: 0, count: capacity)
        lines = [UInt32](repeating: 0, count: capacity)
        for (index, hash) in oldHashes.enumerated() where hash != 0 {
            var slot = Int(hash.multipliedFullWidth(by: UInt64(capacity)).high)
            while hashes[slot] != 0 {
                slot += 1
                if slot == capacity { slot = 0 }
            }
            hashes[slot] = hash
            lines[slot] = oldLines[index]
        }
    }
}

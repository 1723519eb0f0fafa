#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads a file (or standard input, for `-`) in fixed-size chunks with `read(2)`: the whole
/// file is never in memory, whatever its size.
package final class ByteChunkReader {
    /// The name used in messages: the path, or `<stdin>`.
    package let displayName: String
    private let descriptor: Int32
    private let ownsDescriptor: Bool
    private var buffer: [UInt8]

    /// Opens `path`; `-` means standard input.
    package init(path: String, chunkSize: Int = 1 << 20) throws(IngestionError) {
        if path == "-" {
            descriptor = 0
            ownsDescriptor = false
            displayName = "<stdin>"
        } else {
            let opened = open(path, O_RDONLY | O_CLOEXEC)
            guard opened >= 0 else {
                throw .cannotOpen(file: path, reason: String(cString: strerror(errno)))
            }
            var info = stat()
            if fstat(opened, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR {
                close(opened)
                throw .cannotOpen(file: path, reason: "it is a directory")
            }
            descriptor = opened
            ownsDescriptor = true
            displayName = path
        }
        buffer = [UInt8](repeating: 0, count: chunkSize)
    }

    deinit {
        if ownsDescriptor { close(descriptor) }
    }

    /// Calls `body` with each chunk in turn until the end of the input.
    package func forEachChunk(_ body: (UnsafeBufferPointer<UInt8>) throws -> Void) throws {
        while true {
            let count = buffer.withUnsafeMutableBytes { raw in read(descriptor, raw.baseAddress, raw.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw IngestionError.readFailed(file: displayName, reason: String(cString: strerror(errno)))
            }
            if count == 0 { return }
            try buffer.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[0..<count])) }
        }
    }
}

/// The first bytes of a text file: a UTF-8 byte order mark is skipped, a UTF-16 one refused.
package enum ByteOrderMark {
    /// How many bytes to skip at the start of `chunk`; throws for UTF-16.
    package static func skip(_ chunk: UnsafeBufferPointer<UInt8>, file: String) throws(IngestionError) -> Int {
        if chunk.count >= 2, (chunk[0] == 0xFF && chunk[1] == 0xFE) || (chunk[0] == 0xFE && chunk[1] == 0xFF) {
            throw .wrongEncoding(file: file, encoding: "UTF-16")
        }
        return chunk.count >= 3 && chunk[0] == 0xEF && chunk[1] == 0xBB && chunk[2] == 0xBF ? 3 : 0
    }
}

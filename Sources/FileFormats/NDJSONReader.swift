#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads NDJSON: one JSON value per line, blank lines skipped. A bad line is reported and the
/// next line is read, since a line break always resynchronises.
package struct NDJSONReader {
    private let file: String
    private var pending: [UInt8] = []
    private var line = 0
    private var startOfInput = true

    package init(file: String) { self.file = file }

    /// Feeds the next chunk; `emit` receives each non-blank line (without its line break) and its
    /// line number. The bytes are valid only during the call.
    package mutating func consume(_ chunk: UnsafeBufferPointer<UInt8>, emit: Emit) throws {
        guard let base = chunk.baseAddress else { return }
        var start = 0
        if startOfInput {
            startOfInput = false
            start = try ByteOrderMark.skip(chunk, file: file)
        }
        while start < chunk.count, let found = memchr(base + start, 0x0A, chunk.count - start) {
            let index = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
            if pending.isEmpty {
                try emitLine(UnsafeBufferPointer(rebasing: chunk[start..<index]), emit)
            } else {
                pending += UnsafeBufferPointer(rebasing: chunk[start..<index])
                try pending.withUnsafeBufferPointer { try emitLine($0, emit) }
                pending.removeAll(keepingCapacity: true)
            }
            start = index + 1
        }
        if start < chunk.count {
            guard pending.count + (chunk.count - start) <= JSONArrayReader.maxElementBytes else {
                throw IngestionError.malformedJSON(
                    file: file, line: line + 1, column: 1,
                    reason: "the line is longer than \(JSONArrayReader.maxElementBytes >> 20) MiB")
            }
            pending += UnsafeBufferPointer(rebasing: chunk[start...])
        }
    }

    package mutating func finish(emit: Emit) throws {
        if !pending.isEmpty {
            try pending.withUnsafeBufferPointer { try emitLine($0, emit) }
            pending.removeAll()
        }
    }

    package typealias Emit = (UnsafeBufferPointer<UInt8>, _ line: Int) throws -> Void

    private mutating func emitLine(_ raw: UnsafeBufferPointer<UInt8>, _ emit: Emit) throws {
        line += 1
        var bytes = raw
        if let last = bytes.last, last == 0x0D { bytes = UnsafeBufferPointer(rebasing: bytes.dropLast()) }
        if bytes.first != UInt8(ascii: "{"), bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { return }
        try emit(bytes, line)
    }
}

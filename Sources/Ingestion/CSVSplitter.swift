/// Finds where each CSV record starts and ends, without building fields: the cheap, sequential
/// first stage of reading a CSV file. The records' bytes then go to ``CSVReader`` on several
/// cores at once.
///
/// It runs the same quote state machine as ``CSVReader`` (a quote opens a quoted field only at
/// the start of a field; `""` inside quotes is a quote; a line break inside quotes belongs to the
/// field), so both agree on every record boundary, malformed input included. It also owns the
/// start of the file: a UTF-8 byte order mark is skipped, UTF-16 is refused, and a first line
/// `sep=X` sets the delimiter.
public struct CSVSplitter {
    public private(set) var delimiter: UInt8
    private let delimiterIsFixed: Bool
    private let file: String
    private enum State { case fieldStart, unquoted, quoted, quoteInQuoted }
    private var state = State.fieldStart
    private var line = 1
    private var recordLine = 1
    private var afterCR = false
    private var quotedCR = false
    private var recordHasBytes = false
    private var carry: [UInt8] = []
    private var opening: [UInt8] = []
    private var startOfInput = true
    /// Records longer than this keep only their first bytes (a quote never closed swallows the
    /// rest of the file; the parser then reports it without holding the whole file).
    static let maxRecordBytes = 16 << 20

    public init(file: String, delimiter: UInt8?) {
        self.file = file
        self.delimiter = delimiter ?? UInt8(ascii: ",")
        self.delimiterIsFixed = delimiter != nil
    }

    /// Feeds a chunk; `emit` gets each complete record's bytes (without its line break), the
    /// line where it starts, and the delimiter in force. The bytes are only valid during the call.
    public mutating func consume(_ chunk: UnsafeBufferPointer<UInt8>, emit: (UnsafeBufferPointer<UInt8>, Int, UInt8) throws -> Void) throws {
        if startOfInput {
            opening += chunk
            guard opening.count >= 16 || opening.contains(0x0A) || opening.contains(0x0D) else { return }
            try consumeOpening(emit: emit)
            return
        }
        try scan(chunk, from: 0, emit: emit)
    }

    /// Ends the input: emits a last record without a line break.
    public mutating func finish(emit: (UnsafeBufferPointer<UInt8>, Int, UInt8) throws -> Void) throws {
        if startOfInput, !opening.isEmpty { try consumeOpening(emit: emit) }
        if recordHasBytes || !carry.isEmpty || state != .fieldStart {
            try carry.withUnsafeBufferPointer { try emit($0, recordLine, delimiter) }
            carry.removeAll()
            recordHasBytes = false
        }
    }

    private mutating func consumeOpening(emit: (UnsafeBufferPointer<UInt8>, Int, UInt8) throws -> Void) throws {
        startOfInput = false
        let bytes = opening
        opening = []
        try bytes.withUnsafeBufferPointer { chunk in
            var start = 0
            if chunk.count >= 2, (chunk[0] == 0xFF && chunk[1] == 0xFE) || (chunk[0] == 0xFE && chunk[1] == 0xFF) {
                throw IngestionError.wrongEncoding(file: file, encoding: "UTF-16")
            }
            if chunk.count >= 3, chunk[0] == 0xEF, chunk[1] == 0xBB, chunk[2] == 0xBF { start = 3 }
            if chunk.count >= start + 4, chunk[start + 1] == 0, chunk[start + 3] == 0, chunk[start] != 0 {
                throw IngestionError.wrongEncoding(file: file, encoding: "UTF-16 (without a byte order mark)")
            }
            start += skipSeparatorLine(UnsafeBufferPointer(rebasing: chunk[start...]))
            try scan(chunk, from: start, emit: emit)
        }
    }

    private mutating func scan(_ chunk: UnsafeBufferPointer<UInt8>, from start: Int, emit: (UnsafeBufferPointer<UInt8>, Int, UInt8) throws -> Void) throws {
        var recordStart = start
        var index = start
        let count = chunk.count
        let delimiter = self.delimiter
        while index < count {
            let byte = chunk[index]
            if afterCR {
                afterCR = false
                if byte == 0x0A { index += 1; recordStart = index; continue }
            }
            switch state {
            case .fieldStart, .unquoted, .quoteInQuoted:
                if byte == 0x0A || byte == 0x0D {
                    if recordHasBytes || !carry.isEmpty {
                        try emitRecord(UnsafeBufferPointer(rebasing: chunk[recordStart..<index]), emit)
                    }
                    state = .fieldStart
                    line += 1
                    recordLine = line
                    afterCR = byte == 0x0D
                    index += 1
                    recordStart = index
                    continue
                }
                recordHasBytes = true
                if byte == delimiter {
                    state = .fieldStart
                } else if byte == UInt8(ascii: "\"") {
                    state = state == .fieldStart ? .quoted : (state == .quoteInQuoted ? .quoted : .unquoted)
                    quotedCR = false
                } else {
                    state = .unquoted
                    // Skip the rest of an unquoted run in a tight loop.
                    index += 1
                    while index < count {
                        let next = chunk[index]
                        if next == delimiter || next == 0x0A || next == 0x0D || next == UInt8(ascii: "\"") { break }
                        index += 1
                    }
                    continue
                }
            case .quoted:
                recordHasBytes = true
                if byte == UInt8(ascii: "\"") {
                    state = .quoteInQuoted
                    quotedCR = false
                } else {
                    if byte == 0x0D || (byte == 0x0A && !quotedCR) { line += 1 }
                    quotedCR = byte == 0x0D
                }
            }
            index += 1
        }
        if recordStart < count {
            appendCarry(UnsafeBufferPointer(rebasing: chunk[recordStart..<count]))
        }
    }

    private mutating func emitRecord(_ tail: UnsafeBufferPointer<UInt8>, _ emit: (UnsafeBufferPointer<UInt8>, Int, UInt8) throws -> Void) throws {
        if carry.isEmpty {
            try emit(tail, recordLine, delimiter)
        } else {
            appendCarry(tail)
            try carry.withUnsafeBufferPointer { try emit($0, recordLine, delimiter) }
            carry.removeAll(keepingCapacity: carry.capacity <= 1 << 16)
        }
        recordHasBytes = false
    }

    private mutating func appendCarry(_ bytes: UnsafeBufferPointer<UInt8>) {
        let room = Self.maxRecordBytes - carry.count
        if room > 0 { carry += UnsafeBufferPointer(rebasing: bytes[..<min(bytes.count, room)]) }
    }

    /// Skips a first line `sep=X` and takes X as the delimiter (unless one was given).
    private mutating func skipSeparatorLine(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        let prefix = Array("sep=".utf8)
        guard bytes.count >= 5, Array(bytes[0..<4]).map({ $0 | 0x20 }) == prefix.map({ $0 | 0x20 }) else { return 0 }
        let separator = bytes[4]
        var end = 5
        guard end == bytes.count || bytes[end] == 0x0A || bytes[end] == 0x0D else { return 0 }
        if !delimiterIsFixed { delimiter = separator }
        if end < bytes.count, bytes[end] == 0x0D {
            end += 1
            // A CR at the end of what arrived: an LF at the start of the next chunk belongs to it.
            if end == bytes.count { afterCR = true }
        }
        if end < bytes.count, bytes[end] == 0x0A { end += 1 }
        line = 2
        recordLine = 2
        return end
    }
}

/// A streaming RFC 4180 reader: a byte-level state machine.
///
/// - Quoted fields may hold delimiters, doubled quotes and line breaks.
/// - Records end at CRLF, LF or a lone CR; a line break inside quotes belongs to the field.
/// - A UTF-8 byte order mark is skipped; a UTF-16 or UTF-32 one stops the read with a clear error.
/// - A first line `sep=X` (Excel's hint) sets the delimiter and is not a record.
/// - Blank lines are skipped.
///
/// Malformed input never stops the read: a stray quote in an unquoted field, text after a
/// closing quote, a NUL byte, invalid UTF-8 or an over-long field becomes a ``Problem`` on the
/// record, and reading goes on with the next byte. Only an unterminated quote at the end of the
/// file swallows the rest, and that is reported at the line where the quote opened. (Records are
/// handed over as bytes; ``Record/decoded()``, which the parallel stage runs, makes the strings and
/// finds invalid UTF-8.)
///
/// Chosen over CSV.swift after measuring: on Linux that library reports a false read error at end
/// of file and accepts malformed quotes, and this reader was about 5× faster. (This file is the
/// byte-level state machine — quotes, line ends, the BOM, the record's positions — whose hot loop
/// is kept in one piece; what it hands over, ``Record`` and ``Problem``, is in CSVReader+Record.swift.)
package struct CSVReader {
    /// The longest field accepted, in bytes; longer ones are cut and reported.
    package static let maxFieldBytes = 1 << 20

    package private(set) var delimiter: UInt8
    private let delimiterIsFixed: Bool

    private enum State { case fieldStart, unquoted, quoted, quoteInQuoted }
    private var state = State.fieldStart
    /// The record being read: its fields' bytes, and where each complete field ends.
    private var bytes: [UInt8] = []
    private var ends: [Int] = []
    /// Where the field being read starts in `bytes`.
    private var fieldStart = 0
    private var problems: [Problem] = []
    private var fieldHasNUL = false
    private var fieldTooLong = false
    private var line = 1
    private var recordLine = 1
    private var quoteLine = 1
    private var afterCR = false
    private var startOfInput = true
    private var quotedCR = false
    private var opening: [UInt8] = []
    private let file: String

    /// - Parameter delimiter: a fixed delimiter, or nil to use `,` unless a `sep=` line says otherwise.
    package init(file: String, delimiter: UInt8?) {
        self.file = file
        self.delimiter = delimiter ?? UInt8(ascii: ",")
        self.delimiterIsFixed = delimiter != nil
    }

    /// Feeds the next chunk; `emit` receives each complete record.
    package mutating func consume(_ chunk: UnsafeBufferPointer<UInt8>, emit: (Record) throws -> Void) throws {
        if startOfInput {
            // Hold the first bytes back until the first line is whole (or long enough), so a BOM
            // and a `sep=` line are recognised however the input is chunked.
            opening += chunk
            guard opening.count >= 16 || opening.contains(0x0A) || opening.contains(0x0D) else { return }
            startOfInput = false
            let opening = self.opening
            self.opening = []
            try opening.withUnsafeBufferPointer { try consumeOpening($0, emit: emit) }
            return
        }
        try scan(chunk, from: 0, emit: emit)
    }

    private mutating func consumeOpening(_ chunk: UnsafeBufferPointer<UInt8>, emit: (Record) throws -> Void) throws {
        var start = try ByteOrderMark.skip(chunk, file: file)
        if chunk.count >= start + 4, chunk[start + 1] == 0, chunk[start + 3] == 0, chunk[start] != 0 {
            throw IngestionError.wrongEncoding(file: file, encoding: "UTF-16 (without a byte order mark)")
        }
        start += skipSeparatorLine(UnsafeBufferPointer(rebasing: chunk[start...]))
        try scan(chunk, from: start, emit: emit)
    }

    private mutating func scan(_ chunk: UnsafeBufferPointer<UInt8>, from start: Int, emit: (Record) throws -> Void)
        throws
    {
        var index = start
        let count = chunk.count
        let delimiter = self.delimiter
        while index < count {
            let byte = chunk[index]
            index += 1
            if afterCR {
                afterCR = false
                if byte == 0x0A { continue }
            }
            switch state {
            case .fieldStart:
                if byte == UInt8(ascii: "\"") {
                    state = .quoted
                    quotedCR = false
                    quoteLine = line
                } else if byte == delimiter {
                    endField()
                } else if byte == 0x0A || byte == 0x0D {
                    try endRecord(lineBreak: byte, emit: emit)
                } else {
                    state = .unquoted
                    // Fast path: the rest of an unquoted field that ends inside this chunk is
                    // copied at once, without the byte-by-byte loop.
                    let start = index - 1
                    var end = start
                    while end < count {
                        let next = chunk[end]
                        if next == delimiter || next == 0x0A || next == 0x0D || next == UInt8(ascii: "\"") || next == 0
                        {
                            break
                        }
                        end += 1
                    }
                    if end < count, chunk[end] != UInt8(ascii: "\""), chunk[end] != 0, end - start <= Self.maxFieldBytes
                    {
                        bytes.append(contentsOf: UnsafeBufferPointer(rebasing: chunk[start..<end]))
                        index = end
                    } else {
                        append(byte)
                    }
                }
            case .unquoted:
                if byte == delimiter {
                    endField()
                    state = .fieldStart
                } else if byte == 0x0A || byte == 0x0D {
                    try endRecord(lineBreak: byte, emit: emit)
                } else {
                    // Once per field, however many quotes it holds.
                    if byte == UInt8(ascii: "\""),
                        problems.last?.fieldIndex != ends.count + 1 || problems.last?.line != line
                    {
                        problems.append(
                            Problem(
                                fieldIndex: ends.count + 1, line: line,
                                message:
                                    "a quote (\") inside a field that does not start with a quote; put the whole field in quotes and double the quotes inside it (\"\")"
                            ))
                    }
                    append(byte)
                }
            case .quoted:
                if byte == UInt8(ascii: "\"") {
                    state = .quoteInQuoted
                    quotedCR = false
                } else {
                    // CRLF inside quotes is one line break; so is a lone CR or LF.
                    if byte == 0x0D || (byte == 0x0A && !quotedCR) { line += 1 }
                    quotedCR = byte == 0x0D
                    append(byte)
                }
            case .quoteInQuoted:
                if byte == UInt8(ascii: "\"") {
                    append(byte)
                    state = .quoted
                } else if byte == delimiter {
                    endField()
                    state = .fieldStart
                } else if byte == 0x0A || byte == 0x0D {
                    try endRecord(lineBreak: byte, emit: emit)
                } else {
                    problems.append(
                        Problem(
                            fieldIndex: ends.count + 1, line: line,
                            message:
                                "text after the closing quote; a quoted field must end at the quote, and quotes inside it must be doubled (\"\")"
                        ))
                    append(byte)
                    state = .unquoted
                }
            }
        }
    }

    /// Ends the input: emits the last record, and reports a quote still open.
    package mutating func finish(emit: (Record) throws -> Void) throws {
        if startOfInput, !opening.isEmpty {
            startOfInput = false
            let opening = self.opening
            self.opening = []
            try opening.withUnsafeBufferPointer { try consumeOpening($0, emit: emit) }
        }
        if state == .quoted {
            problems.append(
                Problem(
                    fieldIndex: ends.count + 1, line: quoteLine,
                    message:
                        "a quote opened on line \(quoteLine) is never closed, so the rest of the file was read as one field; close the quote or remove it"
                ))
        }
        if state != .fieldStart || !ends.isEmpty || !problems.isEmpty {
            endField()
            try emitRecord(emit)
        }
    }

    @inline(__always)
    private mutating func append(_ byte: UInt8) {
        if byte == 0 {
            fieldHasNUL = true
            return
        }
        if bytes.count - fieldStart < Self.maxFieldBytes { bytes.append(byte) } else { fieldTooLong = true }
    }

    private mutating func endField() {
        let index = ends.count + 1
        if fieldHasNUL {
            problems.append(
                Problem(
                    fieldIndex: index, line: line,
                    message: "contains NUL bytes (the file may be binary or UTF-16); save it as UTF-8 text"))
        }
        if fieldTooLong {
            problems.append(
                Problem(
                    fieldIndex: index, line: line,
                    message: "is longer than \(Self.maxFieldBytes) bytes and was cut; no license field is that long"))
        }
        ends.append(bytes.count)
        fieldStart = bytes.count
        fieldHasNUL = false
        fieldTooLong = false
    }

    private mutating func endRecord(lineBreak: UInt8, emit: (Record) throws -> Void) throws {
        let blank = ends.isEmpty && state == .fieldStart && problems.isEmpty
        if !blank {
            endField()
            try emitRecord(emit)
        }
        state = .fieldStart
        line += 1
        recordLine = line
        afterCR = lineBreak == 0x0D
    }

    private mutating func emitRecord(_ emit: (Record) throws -> Void) throws {
        try bytes.withUnsafeBufferPointer { bytes in
            try ends.withUnsafeBufferPointer { ends in
                try emit(Record(bytes: bytes, ends: ends, line: recordLine, problems: problems, delimiter: delimiter))
            }
        }
        // The buffers are reused record after record: no allocation per record.
        bytes.removeAll(keepingCapacity: true)
        ends.removeAll(keepingCapacity: true)
        fieldStart = 0
        problems = []
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

    package static func firstInvalidUTF8Offset(_ bytes: [UInt8]) -> Int {
        var offset = 0
        while offset < bytes.count {
            let byte = bytes[offset]
            let length =
                byte < 0x80 ? 1 : byte >> 5 == 0b110 ? 2 : byte >> 4 == 0b1110 ? 3 : byte >> 3 == 0b11110 ? 4 : 0
            guard length > 0, offset + length <= bytes.count,
                bytes[offset + 1..<offset + length].allSatisfy({ $0 >> 6 == 0b10 }),
                String(validating: bytes[offset..<offset + length], as: UTF8.self) != nil
            else { return offset }
            offset += length
        }
        return offset
    }
}

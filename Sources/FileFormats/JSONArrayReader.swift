/// Streams the elements of a top-level JSON array, one at a time: the file is never loaded
/// whole, only the element being read. This file is a state machine, so it is longer than most.
///
/// The scanner only finds element boundaries (tracking nesting and strings); each element is
/// then parsed on its own, so a message can name the element's line and column. A file that
/// is not an array, an array that is never closed, and text after the array stop the read; an
/// element that is not an object is reported by the caller and skipped.
package struct JSONArrayReader {
    /// One element, not yet parsed, and where it starts. The bytes are valid only while the
    /// element is handed over.
    package struct Element {
        package var bytes: UnsafeBufferPointer<UInt8>
        package var line: Int
        package var column: Int
        /// 1-based position in the array.
        package var index: Int

        package init(bytes: UnsafeBufferPointer<UInt8>, line: Int, column: Int, index: Int) {
            self.bytes = bytes
            self.line = line
            self.column = column
            self.index = index
        }

        /// The error for a syntax error in the element, at its line and column in the file.
        package func error(for failure: JSONCellParser.Failure, file: String) -> IngestionError {
            let prefix = bytes[..<min(failure.offset, bytes.count)]
            let lineBreaks = prefix.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
            let errorColumn =
                lineBreaks == 0 ? column + failure.offset : failure.offset - (prefix.lastIndex(of: 0x0A) ?? 0)
            return .malformedJSON(
                file: file, line: line + lineBreaks, column: errorColumn,
                reason: "element \(index) is not valid JSON: \(failure.reason)")
        }
    }

    /// The largest element accepted, in bytes.
    package static let maxElementBytes = 16 << 20

    private enum Phase { case beforeArray, expectElement, afterElement, inElement, afterArray }
    private let file: String
    private var phase = Phase.beforeArray
    private var element: [UInt8] = []
    private var depth = 0
    private var inString = false
    private var escaped = false
    private var scalar = false
    private var line = 1
    private var column = 0
    private var elementLine = 1
    private var elementColumn = 1
    private var count = 0
    private var startOfInput = true
    private var sawComma = false

    package init(file: String) { self.file = file }

    package mutating func consume(_ chunk: UnsafeBufferPointer<UInt8>, emit: (Element) throws -> Void) throws {
        var index = 0
        if startOfInput {
            startOfInput = false
            index = try ByteOrderMark.skip(chunk, file: file)
        }
        while index < chunk.count {
            if phase == .inElement, !scalar {
                // Fast path inside an object or array: scan to its end (or the chunk's) in a
                // tight loop, then copy the whole run at once.
                let start = index
                var finished = false
                while index < chunk.count {
                    let byte = chunk[index]
                    index += 1
                    column += 1
                    if byte == 0x0A {
                        line += 1
                        column = 0
                    }
                    if inString {
                        if escaped {
                            escaped = false
                        } else if byte == UInt8(ascii: "\\") {
                            escaped = true
                        } else if byte == UInt8(ascii: "\"") {
                            inString = false
                            if depth == 0 {
                                finished = true
                                break
                            }
                        }
                    } else if byte == UInt8(ascii: "\"") {
                        inString = true
                    } else if byte == UInt8(ascii: "{") || byte == UInt8(ascii: "[") {
                        depth += 1
                    } else if byte == UInt8(ascii: "}") || byte == UInt8(ascii: "]") {
                        depth -= 1
                        if depth == 0 {
                            finished = true
                            break
                        }
                    }
                }
                guard element.count + (index - start) <= Self.maxElementBytes else {
                    throw IngestionError.malformedJSON(
                        file: file, line: elementLine, column: elementColumn,
                        reason:
                            "element \(count + 1) is larger than \(Self.maxElementBytes >> 20) MiB; is a bracket missing?"
                    )
                }
                element.append(contentsOf: UnsafeBufferPointer(rebasing: chunk[start..<index]))
                if finished { try finishElement(emit) }
                continue
            }
            let byte = chunk[index]
            index += 1
            column += 1
            let isSpace = byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
            switch phase {
            case .beforeArray:
                if isSpace { break }
                if byte == UInt8(ascii: "[") {
                    phase = .expectElement
                    break
                }
                let hint =
                    byte == UInt8(ascii: "{")
                    ? "the file holds one JSON object, not an array of orders; put the orders in [ … ], or use NDJSON (one object per line)"
                    : "a JSON order file must be an array of objects, starting with ["
                throw IngestionError.malformedJSON(file: file, line: line, column: column, reason: hint)
            case .expectElement:
                if isSpace { break }
                if byte == UInt8(ascii: "]") {
                    if sawComma {
                        throw IngestionError.malformedJSON(
                            file: file, line: line, column: column,
                            reason: "a comma before ] leaves an empty element; remove the last comma")
                    }
                    phase = .afterArray
                    break
                }
                if byte == UInt8(ascii: ",") {
                    throw IngestionError.malformedJSON(
                        file: file, line: line, column: column, reason: "two commas in a row leave an empty element")
                }
                startElement(byte)
                if scalar == false, depth == 0, !inString { try finishElement(emit) }
            case .inElement:
                if scalar {
                    if isSpace || byte == UInt8(ascii: ",") || byte == UInt8(ascii: "]") {
                        try finishElement(emit)
                        try after(byte, emit: emit)
                        break
                    }
                    try append(byte)
                }
            // Objects, arrays and strings are read by the fast path at the top of the loop.
            case .afterElement:
                try after(byte, emit: emit)
            case .afterArray:
                if !isSpace {
                    throw IngestionError.malformedJSON(
                        file: file, line: line, column: column,
                        reason: "text after the end of the array; the file must hold exactly one array")
                }
            }
            if byte == 0x0A {
                line += 1
                column = 0
            }
        }
    }

    /// Ends the input; an array still open means the file was cut short.
    package func finish() throws {
        switch phase {
        case .afterArray: return
        case .beforeArray: throw IngestionError.emptyFile(file: file)
        default:
            throw IngestionError.malformedJSON(
                file: file, line: line, column: column,
                reason: "the file ends inside the array (is it cut short?); the array must end with ]")
        }
    }

    private mutating func after(_ byte: UInt8, emit: (Element) throws -> Void) throws {
        switch byte {
        case 0x20, 0x0A, 0x0D, 0x09: phase = .afterElement
        case UInt8(ascii: ","):
            phase = .expectElement
            sawComma = true
        case UInt8(ascii: "]"): phase = .afterArray
        default:
            throw IngestionError.malformedJSON(
                file: file, line: line, column: column, reason: "expected , or ] after element \(count)")
        }
    }

    private mutating func startElement(_ byte: UInt8) {
        phase = .inElement
        sawComma = false
        element.removeAll(keepingCapacity: true)
        element.append(byte)
        elementLine = line
        elementColumn = column
        depth = 0
        inString = false
        escaped = false
        scalar = false
        switch byte {
        case UInt8(ascii: "{"), UInt8(ascii: "["): depth = 1
        case UInt8(ascii: "\""): inString = true
        default: scalar = true
        }
    }

    private mutating func append(_ byte: UInt8) throws {
        guard element.count < Self.maxElementBytes else {
            throw IngestionError.malformedJSON(
                file: file, line: elementLine, column: elementColumn,
                reason: "element \(count + 1) is larger than \(Self.maxElementBytes >> 20) MiB; is a bracket missing?")
        }
        element.append(byte)
    }

    private mutating func finishElement(_ emit: (Element) throws -> Void) throws {
        count += 1
        phase = .afterElement
        // Handed over in place: the buffer stays this reader's, reused element after element.
        try element.withUnsafeBufferPointer {
            try emit(Element(bytes: $0, line: elementLine, column: elementColumn, index: count))
        }
    }
}

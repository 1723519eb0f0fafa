/// What ``CSVReader`` hands over: records as bytes, decoded on demand, and the problems found in them.
extension CSVReader {
    /// One record as read: its fields' bytes back to back (quotes taken off, doubled quotes
    /// undone), and where each field ends. The buffers are valid only while the record is handed
    /// over; ``decoded()`` makes a copy that lasts.
    package struct Record {
        package let bytes: UnsafeBufferPointer<UInt8>
        /// The end of each field in ``bytes``.
        package let ends: UnsafeBufferPointer<Int>
        /// The physical line where the record starts.
        package let line: Int
        /// Problems found while reading it (invalid UTF-8 is found when decoding).
        package let problems: [Problem]
        /// The delimiter in force (after any `sep=` line).
        package let delimiter: UInt8

        package init(
            bytes: UnsafeBufferPointer<UInt8>, ends: UnsafeBufferPointer<Int>, line: Int, problems: [Problem],
            delimiter: UInt8
        ) {
            self.bytes = bytes
            self.ends = ends
            self.line = line
            self.problems = problems
            self.delimiter = delimiter
        }

        /// The fields decoded as UTF-8, with a problem for each field that is not valid UTF-8
        /// (its text then has the bad bytes replaced).
        package func decoded() -> Decoded {
            var fields: [String] = []
            fields.reserveCapacity(ends.count)
            var problems = self.problems
            var start = 0
            var foundInvalid = false
            for (index, end) in ends.enumerated() {
                let field = UnsafeBufferPointer(rebasing: bytes[start..<end])
                if let text = CSVReader.decode(field) {
                    fields.append(text)
                } else {
                    // The physical line at the end of this field: the record's first, plus the line
                    // breaks inside its quoted fields so far.
                    var lineBreaks = 0
                    var fieldStart = 0
                    for fieldEnd in ends[...index] {
                        lineBreaks += CSVReader.lineBreaks(
                            in: UnsafeBufferPointer(rebasing: bytes[fieldStart..<fieldEnd]))
                        fieldStart = fieldEnd
                    }
                    problems.append(
                        Problem(
                            fieldIndex: index + 1, line: line + lineBreaks,
                            message:
                                "is not valid UTF-8 (byte \(CSVReader.firstInvalidUTF8Offset(Array(field)) + 1) of the field); save the file as UTF-8"
                        ))
                    fields.append(String(decoding: field, as: UTF8.self))
                    foundInvalid = true
                }
                start = end
            }
            if foundInvalid {
                // In field order, as the problems were found: a field's own before the next field's.
                problems = problems.enumerated().sorted {
                    ($0.element.fieldIndex, $0.offset) < ($1.element.fieldIndex, $1.offset)
                }.map(\.element)
            }
            return Decoded(fields: fields, line: line, problems: problems, delimiter: delimiter)
        }
    }

    /// A record decoded: fields as strings.
    package struct Decoded: Sendable {
        package var fields: [String]
        /// The physical line where the record starts.
        package var line: Int
        /// Problems found while reading and decoding it.
        package var problems: [Problem]
        /// The delimiter in force (after any `sep=` line).
        package var delimiter: UInt8

        package init(fields: [String], line: Int, problems: [Problem], delimiter: UInt8) {
            self.fields = fields
            self.line = line
            self.problems = problems
            self.delimiter = delimiter
        }
    }

    /// A field's text; nil when it is not valid UTF-8. ASCII is copied without validation.
    package static func decode(_ field: UnsafeBufferPointer<UInt8>) -> String? {
        var highBits: UInt8 = 0
        for byte in field { highBits |= byte }
        if highBits < 0x80 {
            return String(unsafeUninitializedCapacity: field.count) {
                _ = $0.initialize(fromContentsOf: field)
                return field.count
            }
        }
        return String(validating: field, as: UTF8.self)
    }

    /// Line breaks in a quoted field's bytes: CRLF, a lone CR and a lone LF each count once.
    package static func lineBreaks(in bytes: UnsafeBufferPointer<UInt8>) -> Int {
        var count = 0
        for (index, byte) in bytes.enumerated()
        where byte == 0x0D || (byte == 0x0A && (index == 0 || bytes[index - 1] != 0x0D)) {
            count += 1
        }
        return count
    }

    /// A malformed spot in a record.
    package struct Problem: Sendable, Equatable {
        /// 1-based index of the field.
        package var fieldIndex: Int
        /// The physical line of the problem (a multi-line record may have it below its start).
        package var line: Int
        package var message: String

        package init(fieldIndex: Int, line: Int, message: String) {
            self.fieldIndex = fieldIndex
            self.line = line
            self.message = message
        }
    }
}

/// Reads NDJSON: one JSON value per line, blank lines skipped. A bad line is reported and the
/// next line is read, since a line break always resynchronises.
public struct NDJSONReader {
    /// One non-blank line, not yet parsed.
    public struct Line: Sendable {
        public var bytes: [UInt8]
        public var line: Int

        /// Parses the line.
        public func parse() -> Result<JSONCell, ParseProblem> {
            switch bytes.withUnsafeBufferPointer({ JSONCellParser.parse($0) }) {
            case .success(let value): .success(value)
            case .failure(let failure): .failure(ParseProblem(column: failure.offset + 1, reason: failure.reason))
            }
        }
    }

    /// A line that is not valid JSON.
    public struct ParseProblem: Error, Sendable {
        public var column: Int
        public var reason: String
    }

    private let file: String
    private var pending: [UInt8] = []
    private var line = 0
    private var startOfInput = true

    public init(file: String) { self.file = file }

    public mutating func consume(_ chunk: UnsafeBufferPointer<UInt8>, emit: (Line) throws -> Void) throws {
        var start = 0
        if startOfInput {
            startOfInput = false
            start = try ByteOrderMark.skip(chunk, file: file)
        }
        var index = start
        while index < chunk.count {
            if chunk[index] == 0x0A {
                if pending.isEmpty {
                    try emitLine(UnsafeBufferPointer(rebasing: chunk[start..<index]), emit)
                } else {
                    pending += UnsafeBufferPointer(rebasing: chunk[start..<index])
                    try pending.withUnsafeBufferPointer { try emitLine($0, emit) }
                    pending.removeAll(keepingCapacity: true)
                }
                start = index + 1
            }
            index += 1
        }
        if start < chunk.count {
            guard pending.count + (chunk.count - start) <= JSONArrayReader.maxElementBytes else {
                throw IngestionError.malformedJSON(file: file, line: line + 1, column: 1, reason: "the line is longer than \(JSONArrayReader.maxElementBytes >> 20) MiB")
            }
            pending += UnsafeBufferPointer(rebasing: chunk[start...])
        }
    }

    public mutating func finish(emit: (Line) throws -> Void) throws {
        if !pending.isEmpty {
            try pending.withUnsafeBufferPointer { try emitLine($0, emit) }
            pending.removeAll()
        }
    }

    private mutating func emitLine(_ raw: UnsafeBufferPointer<UInt8>, _ emit: (Line) throws -> Void) throws {
        line += 1
        var bytes = raw
        if let last = bytes.last, last == 0x0D { bytes = UnsafeBufferPointer(rebasing: bytes.dropLast()) }
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { return }
        try emit(Line(bytes: Array(bytes), line: line))
    }
}

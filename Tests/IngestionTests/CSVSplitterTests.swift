import Testing
@testable import Ingestion

/// The splitter and the streaming reader must agree on every record boundary, however the
/// input is chunked: the parallel path (splitter, then one record at a time) and the streaming
/// path are checked against each other.
@Suite("CSVSplitter cuts records exactly where CSVReader ends them")
struct CSVSplitterTests {
    static let inputs = [
        "a,b,c\r\n\"x,1\",\"say \"\"hi\"\"\",\"two\r\nlines\"\r\nlast,,\n",
        "h1,h2\na,b\r\nc,d\re,f\n\n\r\ng,h",
        "\u{FEFF}sep=;\r\nname;n\r\nx;\"1\n2\"\r\n",
        "a,b\nx,5\" screen\ny,z\n",
        "a,b\n\"x\"y,z\n\"\"\n",
        "a,b\nx,y\n\"open,z\nmore\nlines\n",
        "a,b\r\n\r\n\r\nx,\"\r\n\"\r\n",
    ]

    static func streamed(_ text: String) throws -> [CSVReader.Record] {
        var reader = CSVReader(file: "t.csv", delimiter: nil)
        var records: [CSVReader.Record] = []
        try Array(text.utf8).withUnsafeBufferPointer { try reader.consume($0) { records.append($0) } }
        try reader.finish { records.append($0) }
        return records
    }

    static func split(_ text: String, chunkSize: Int) throws -> [CSVReader.Record] {
        var splitter = CSVSplitter(file: "t.csv", delimiter: nil)
        var records: [CSVReader.Record] = []
        let emit: (UnsafeBufferPointer<UInt8>, Int, UInt8) throws -> Void = { bytes, line, delimiter in
            var reader = CSVReader(file: "t.csv", recordDelimiter: delimiter)
            records.append(reader.parseRecord(bytes, line: line))
        }
        let bytes = Array(text.utf8)
        for start in stride(from: 0, to: bytes.count, by: chunkSize) {
            try bytes[start..<min(start + chunkSize, bytes.count)].withUnsafeBufferPointer { try splitter.consume($0, emit: emit) }
        }
        try splitter.finish(emit: emit)
        return records
    }

    @Test(arguments: [1, 2, 3, 5, 16, 1024])
    func splittingAgreesWithStreaming(chunkSize: Int) throws {
        for input in Self.inputs {
            let expected = try Self.streamed(input)
            let actual = try Self.split(input, chunkSize: chunkSize)
            #expect(actual.map(\.fields) == expected.map(\.fields), "\(input.debugDescription)")
            #expect(actual.map(\.line) == expected.map(\.line), "\(input.debugDescription)")
            #expect(actual.map { $0.problems.map(\.message) } == expected.map { $0.problems.map(\.message) }, "\(input.debugDescription)")
            #expect(actual.map { $0.problems.map(\.line) } == expected.map { $0.problems.map(\.line) }, "\(input.debugDescription)")
        }
    }
}

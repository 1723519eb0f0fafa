import Testing

@testable import FileFormats
@testable import Ingestion

@Suite("CSV reading per RFC 4180")
struct CSVReaderTests {
    static func records(_ text: String, delimiter: UInt8? = nil, chunkSize: Int = 7) throws -> [CSVReader.Decoded] {
        try records(Array(text.utf8), delimiter: delimiter, chunkSize: chunkSize)
    }

    /// The records of `bytes` (which may be anything, not only valid UTF-8), decoded.
    static func records(_ bytes: [UInt8], delimiter: UInt8? = nil, chunkSize: Int = 7) throws -> [CSVReader.Decoded] {
        var reader = CSVReader(file: "t.csv", delimiter: delimiter)
        var records: [CSVReader.Decoded] = []
        // Feed in small chunks so that every state is crossed by a chunk boundary somewhere.
        for start in stride(from: 0, to: bytes.count, by: chunkSize) {
            try bytes[start..<min(start + chunkSize, bytes.count)].withUnsafeBufferPointer {
                try reader.consume($0) { records.append($0.decoded()) }
            }
        }
        try reader.finish { records.append($0.decoded()) }
        return records
    }

    @Test(arguments: [1, 2, 3, 7, 64])
    func quotedFieldsHoldDelimitersQuotesAndNewlines(chunkSize: Int) throws {
        let records = try Self.records(
            "a,b,c\r\n\"x,1\",\"say \"\"hi\"\"\",\"two\r\nlines\"\r\nlast,,\n", chunkSize: chunkSize)
        #expect(records.map(\.fields) == [["a", "b", "c"], ["x,1", "say \"hi\"", "two\r\nlines"], ["last", "", ""]])
        #expect(records.map(\.line) == [1, 2, 4])
        #expect(records.allSatisfy { $0.problems.isEmpty })
    }

    @Test func lineEndsMayBeLFCRLFOrCRAndBlankLinesAreSkipped() throws {
        let records = try Self.records("h1,h2\na,b\r\nc,d\re,f\n\n\r\ng,h")
        #expect(records.map(\.fields) == [["h1", "h2"], ["a", "b"], ["c", "d"], ["e", "f"], ["g", "h"]])
        #expect(records.map(\.line) == [1, 2, 3, 4, 7])
    }

    @Test(arguments: [1, 2, 3, 7, 64])
    func aByteOrderMarkIsSkippedAndSepLineSetsTheDelimiter(chunkSize: Int) throws {
        let records = try Self.records("\u{FEFF}sep=;\r\nname;allowedActivations\r\nx;1\r\n", chunkSize: chunkSize)
        #expect(records.map(\.fields) == [["name", "allowedActivations"], ["x", "1"]])
        #expect(records.first?.line == 2)
        #expect(records.first?.delimiter == UInt8(ascii: ";"))
    }

    @Test func aStrayQuoteInAnUnquotedFieldIsReportedAtItsLine() throws {
        let records = try Self.records("a,b\nx,5\" screen\ny,z\n")
        #expect(records[1].problems.map(\.fieldIndex) == [2])
        #expect(records[1].problems.first?.message.contains("inside a field that does not start with a quote") == true)
        #expect(records[2].fields == ["y", "z"], "reading goes on after the bad record")
    }

    @Test func textAfterAClosingQuoteIsReported() throws {
        let records = try Self.records("a,b\n\"x\"y,z\n")
        #expect(records[1].problems.first?.message.contains("text after the closing quote") == true)
    }

    @Test func anUnterminatedQuoteIsReportedWhereItOpened() throws {
        let records = try Self.records("a,b\nx,y\n\"open,z\nmore\nlines\n")
        let last = try #require(records.last)
        #expect(last.line == 3)
        #expect(last.problems.first?.line == 3)
        #expect(last.problems.first?.message.contains("opened on line 3 is never closed") == true)
    }

    @Test func nulBytesAndInvalidUTF8AreReportedByField() throws {
        let records = try Self.records(
            Array("a,b\n".utf8) + [0x78, 0x00, 0x79, 0x2C, 0x6F, 0x6B, 0x0A, 0x6F, 0x6B, 0x2C, 0xC3, 0x28, 0x0A])
        #expect(records[1].problems.map(\.fieldIndex) == [1])
        #expect(records[1].problems.first?.message.contains("NUL") == true)
        #expect(records[2].problems.map(\.fieldIndex) == [2])
        #expect(records[2].problems.first?.message.contains("not valid UTF-8 (byte 1") == true)
    }

    @Test func aFieldOverOneMebibyteIsCutAndReported() throws {
        let long = String(repeating: "n", count: CSVReader.maxFieldBytes + 10)
        let records = try Self.records("a,b\nx,\(long)\ny,z\n", chunkSize: 1 << 16)
        #expect(records[1].fields[1].utf8.count == CSVReader.maxFieldBytes)
        #expect(records[1].problems.first?.message.contains("longer than") == true)
        #expect(records[2].fields == ["y", "z"])
    }

    @Test func aUTF16FileIsRefusedWithAnInstruction() throws {
        var reader = CSVReader(file: "t.csv", delimiter: nil)
        let bytes: [UInt8] = [0xFF, 0xFE, 0x61, 0x00, 0x2C, 0x00]
        #expect(throws: IngestionError.wrongEncoding(file: "t.csv", encoding: "UTF-16")) {
            try bytes.withUnsafeBufferPointer { try reader.consume($0) { _ in } }
            try reader.finish { _ in }
        }
    }

    @Test func aCSVRecordIsDecodedWithItsUTF8ProblemsInFieldOrder() throws {
        // Field 2 is quoted over two lines and holds an invalid byte; field 1 has a stray quote.
        let records = try Self.records(Array("h1,h2,h3\na\"b,\"x\r\ny".utf8) + [0xFF] + Array("\",z\n".utf8))
        #expect(records.count == 2)
        let record = try #require(records.last)
        #expect(record.fields == ["a\"b", "x\r\ny\u{FFFD}", "z"])
        #expect(record.problems.map(\.fieldIndex) == [1, 2])
        #expect(record.problems.last?.line == 3, "the invalid byte is on the field's second line")
        #expect(record.problems.last?.message.contains("not valid UTF-8 (byte 5") == true)
    }

    @Test func aCREndingOneQuotedFieldAndAnLFStartingTheNextAreTwoLineBreaks() throws {
        // "a<CR>" then "<LF>b<FF>": the reader counts two line breaks, so the bad byte is on line 4.
        let record = try #require(
            try Self.records(Array("h1,h2\n\"a\r\",\"\nb".utf8) + [0xFF] + Array("\"\n".utf8)).last)
        #expect(record.line == 2)
        #expect(record.problems.map(\.line) == [4])
    }
}

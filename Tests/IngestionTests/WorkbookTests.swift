import CryptlexModels
import Foundation
import Testing
import ZIPFoundation

@testable import FileFormats
@testable import Ingestion

/// `.xlsx` workbooks written by openpyxl and edited as Excel writes them
/// (scripts/make-xlsx-fixtures.py): every kind of cell, both date systems, a second sheet.
@Suite("Excel workbooks")
struct WorkbookTests {
    static func fixture(_ name: String) throws -> String {
        try #require(Bundle.module.url(forResource: "Resources/" + name, withExtension: nil)).path
    }

    static var options: IngestOptions {
        var options = IngestOptions(idColumn: "order_id", timeZone: .offset(seconds: 0))
        options.format = .xlsx
        return options
    }

    @Test(arguments: ["cells.xlsx", "cells-1904.xlsx"])
    func everyKindOfCellReadsAsACSVWouldHoldIt(_ name: String) throws {
        let result = try read(path: Self.fixture(name), Self.options)
        #expect(result.rows.count == 3)  // the empty styled row 7 is not a row
        let first = result.rows[0]
        #expect(first.rowID == "X-1")
        #expect(first.position.line == 2)
        #expect(first.request.allowedActivations == 5)  // stored as 5.0
        #expect(first.request.notes == "a shared string")  // rich text runs joined, the phonetic reading left out
        #expect(first.customer?.company == "Acme & Sons")  // an inline string, entity decoded
        #expect(first.request.revoked == true)
        #expect(first.request.expiresAt == "2027-03-31T00:00:00Z")  // a date cell, in this workbook's date system
        #expect(first.request.createdAt == "2024-02-29T10:30:00Z")  // a date and time, read in --time-zone
        #expect(first.request.metadata == [LicenseMetadata(key: "ref", value: "X-1")])  // a formula's cached value
        let second = result.rows[1]
        #expect(second.request.revoked == false)
        #expect(second.request.expiresAt == "1999-12-31T00:00:00Z")
        #expect(second.request.notes == nil)  // a blank cell sets nothing
        // A problem is named by its cell.
        #expect(
            result.messages
                == ["cells.xlsx:Orders!C4: allowedActivations: must be a whole number, not 1.5"].map {
                    $0.replacingOccurrences(of: "cells.xlsx", with: name)
                }
                || result.messages.allSatisfy {
                    $0.hasSuffix(":Orders!C4: allowedActivations: must be a whole number, not 1.5")
                }, "\(result.messages)")
        #expect(result.messages.count == 1)
    }

    @Test func aSecondSheetByName() throws {
        var options = Self.options
        options.sheet = "archive"  // names match ignoring case
        let result = try read(path: Self.fixture("cells.xlsx"), options)
        #expect(result.rows.map(\.rowID) == ["A-1"])
        #expect(result.rows.first?.request.productId == "prod-2")
        options.sheet = "Nope"
        #expect(
            throws: IngestionError.badOption(
                "--sheet Nope: \(try Self.fixture("cells.xlsx")) has no sheet of that name; its sheets are: Orders, Archive"
            )
        ) {
            _ = try read(path: Self.fixture("cells.xlsx"), options)
        }
    }

    @Test func excelSerialDatesInBothSystems() {
        #expect(XLSXReader.date(serial: 1, date1904: false) == "1900-01-01")
        #expect(XLSXReader.date(serial: 59, date1904: false) == "1900-02-28")
        #expect(XLSXReader.date(serial: 61, date1904: false) == "1900-03-01")  // 60 is Lotus's 29 February
        #expect(XLSXReader.date(serial: 45_351.4375, date1904: false) == "2024-02-29T10:30:00")
        #expect(XLSXReader.date(serial: 0, date1904: true) == "1904-01-01")
        #expect(XLSXReader.date(serial: 43_889, date1904: true) == "2024-02-29")
        #expect(XLSXReader.number("5.0") == "5" && XLSXReader.number("1.5") == "1.5" && XLSXReader.number("12") == "12")
        #expect(XLSXReader.column("D7") == 3 && XLSXReader.column("AA12") == 26 && XLSXReader.letters(26) == "AA")
        #expect(
            XLSXReader.isDateFormat("dd/mm/yyyy") && !XLSXReader.isDateFormat("0.00")
                && !XLSXReader.isDateFormat("\"days\" 0"))
    }

    /// Inputs `scripts/fuzz.sh xlsx` found (Resources/fuzz-xlsx: a sheet's XML, a NUL, the shared
    /// strings), zipped into a workbook as the fuzzer does: each is refused as a whole, saying why,
    /// instead of crashing. `wide-column`: a cell named `numFmtsB1` made a header 26⁸ columns wide
    /// (an allocation of 2 TB); a reference past XFD is an error now. `row-zero`: a `<row r="0">`
    /// made a problem at line 0; rows go from 1 to 1,048,576, in order.
    @Test(arguments: [
        ("wide-column", "\"numFmtsB1\", which is no cell"), ("row-zero", "has a row numbered 0, which is no row"),
    ])
    func fuzzFindingsAreRefusedSayingWhy(_ name: String, _ expected: String) throws {
        let input = try Data(contentsOf: URL(fileURLWithPath: try Self.fixture("fuzz-xlsx/" + name)))
        let split = input.firstIndex(of: 0) ?? input.endIndex
        let path = try temporaryFile(
            name + ".xlsx",
            try Self.workbook(sheet: input[..<split], strings: split < input.endIndex ? input[(split + 1)...] : Data()))
        do {
            _ = try read(path: path, Self.options)
            Issue.record("\(name) was read without an error")
        } catch let error as IngestionError {
            #expect(error.message.contains(expected), "\(error.message)")
        }
        #expect(
            XLSXReader.column("numFmtsB1") == nil && XLSXReader.column("XFD1") == 16_383
                && XLSXReader.column("XFE1") == nil)
    }

    @Test func rowsOutOfOrderAreRefused() throws {
        let sheet =
            #"<worksheet><sheetData><row r="1"><c t="inlineStr"><is><t>order_id</t></is></c><c t="inlineStr"><is><t>productId</t></is></c></row><row r="3"><c><v>1</v></c><c><v>7</v></c></row><row r="2"><c><v>2</v></c><c><v>7</v></c></row></sheetData></worksheet>"#
        let path = try temporaryFile("order.xlsx", try Self.workbook(sheet: Data(sheet.utf8), strings: Data()))
        #expect { _ = try read(path: path, Self.options) } throws: { error in
            (error as? IngestionError)?.message.contains("has row 2 after row 3; rows must be in order") ?? false
        }
    }

    /// A workbook around a sheet and its shared strings, as the fuzz harness builds it.
    static func workbook(sheet: Data, strings: Data) throws -> [UInt8] {
        let archive = try Archive(accessMode: .create)
        func add(_ path: String, _ contents: Data) throws {
            try archive.addEntry(
                with: path, type: .file, uncompressedSize: Int64(contents.count), compressionMethod: .deflate
            ) { position, length in
                contents.subdata(in: contents.startIndex + Int(position)..<contents.startIndex + Int(position) + length)
            }
        }
        try add(
            "xl/workbook.xml",
            Data(
                #"<workbook xmlns:r="r"><sheets><sheet name="Orders" sheetId="1" r:id="rId1"/></sheets></workbook>"#
                    .utf8))
        try add(
            "xl/_rels/workbook.xml.rels",
            Data(#"<Relationships><Relationship Id="rId1" Target="worksheets/sheet1.xml"/></Relationships>"#.utf8))
        try add(
            "xl/styles.xml",
            Data(
                #"<styleSheet><numFmts><numFmt numFmtId="164" formatCode="dd/mm/yyyy"/></numFmts><cellXfs><xf numFmtId="0"/><xf numFmtId="164"/></cellXfs></styleSheet>"#
                    .utf8))
        try add("xl/worksheets/sheet1.xml", Data(sheet))
        if !strings.isEmpty { try add("xl/sharedStrings.xml", Data(strings)) }
        return Array(archive.data ?? Data())
    }

    @Test func aFileThatIsNotAWorkbookIsSaidSo() throws {
        let path = try temporaryFile("fake.xlsx", "order_id,productId\n1,p\n")
        #expect(throws: IngestionError.self) { _ = try read(path: path, Self.options) }
        do { _ = try read(path: path, Self.options) } catch let error as IngestionError {
            #expect(error.message.contains("not an .xlsx workbook"))
        }
    }
}

/// The workbooks `licprov pull` writes, read back by licprov's own reader: typed cells, a frozen
/// header, and date-times in UTC read as UTC with no --time-zone.
@Suite("Writing workbooks")
struct WorkbookWriterTests {
    @Test func aWrittenWorkbookReadsBackCellForCell() throws {
        let path = try temporaryFile("written.xlsx", "")
        let writer = try XLSXWriter(
            path: path,
            columns: ["order_id", "productId", "allowedActivations", "allowVmActivation", "expiresAt", "notes"])
        let expiry = try #require(CryptlexTimestamp("2027-01-15T08:30:05Z")).date.timeIntervalSince1970
        let first: [XLSXWriter.Cell] = [
            .text("W-1"), .text("prod-1"), .number(3), .bool(true), .date(expiry), .text("a <b> & \"c\", d"),
        ]
        let second: [XLSXWriter.Cell] = [.text("W-2"), .text("prod-1"), .number(-1), .bool(false), .empty, .empty]
        try writer.addRow(first)
        try writer.addRow(second)
        try writer.finish()
        #expect(!FileManager.default.fileExists(atPath: path + ".sheet.xml"))
        var options = IngestOptions(idColumn: "order_id")
        options.format = .xlsx
        let result = try read(path: path, options)
        #expect(result.messages == [])
        #expect(result.rows.count == 2)
        #expect(result.rows[0].request.allowedActivations == 3)
        #expect(result.rows[0].request.allowVmActivation == true)
        #expect(result.rows[0].request.expiresAt == "2027-01-15T08:30:05Z")
        #expect(result.rows[0].request.notes == "a <b> & \"c\", d")
        #expect(result.rows[1].request.allowedActivations == -1)
        #expect(result.rows[1].request.expiresAt == nil)
        let archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .read)
        var sheet = Data()
        _ = try archive.extract(try #require(archive["xl/worksheets/sheet1.xml"])) { sheet.append($0) }
        #expect(String(decoding: sheet, as: UTF8.self).contains(#"state="frozen""#))
    }

    @Test func columnNamesRunPastZ() {
        #expect(XLSXWriter.columnName(0) == "A")
        #expect(XLSXWriter.columnName(25) == "Z")
        #expect(XLSXWriter.columnName(26) == "AA")
        #expect(XLSXWriter.columnName(701) == "ZZ")
        #expect(XLSXWriter.columnName(702) == "AAA")
    }
}

import CryptlexAPI
import Foundation
import Testing
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
        #expect(result.messages == ["cells.xlsx:Orders!C4: allowedActivations: must be a whole number, not 1.5"].map { $0.replacingOccurrences(of: "cells.xlsx", with: name) }
                || result.messages.allSatisfy { $0.hasSuffix(":Orders!C4: allowedActivations: must be a whole number, not 1.5") }, "\(result.messages)")
        #expect(result.messages.count == 1)
    }

    @Test func aSecondSheetByName() throws {
        var options = Self.options
        options.sheet = "archive"  // names match ignoring case
        let result = try read(path: Self.fixture("cells.xlsx"), options)
        #expect(result.rows.map(\.rowID) == ["A-1"])
        #expect(result.rows.first?.request.productId == "prod-2")
        options.sheet = "Nope"
        #expect(throws: IngestionError.badOption("--sheet Nope: \(try Self.fixture("cells.xlsx")) has no sheet of that name; its sheets are: Orders, Archive")) {
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
        #expect(XLSXReader.isDateFormat("dd/mm/yyyy") && !XLSXReader.isDateFormat("0.00") && !XLSXReader.isDateFormat("\"days\" 0"))
    }

    @Test func aFileThatIsNotAWorkbookIsSaidSo() throws {
        let path = try temporaryFile("fake.xlsx", "order_id,productId\n1,p\n")
        #expect(throws: IngestionError.self) { _ = try read(path: path, Self.options) }
        do { _ = try read(path: path, Self.options) } catch let error as IngestionError {
            #expect(error.message.contains("not an .xlsx workbook"))
        }
    }
}

import Foundation
import ZIPFoundation

/// Writes one sheet as a real `.xlsx` workbook (over ZIPFoundation, deflated): a header row,
/// frozen, then rows of typed cells — numbers as numbers, booleans as booleans, date-times as
/// Excel dates (UTC, formatted `yyyy-mm-dd"T"hh:mm:ss"Z"`: licprov's reader takes the `Z` as UTC), the rest as inline strings. The sheet's
/// XML is streamed to a file beside the workbook while rows are added, so a sheet of 100,000 rows
/// is never held in memory; ``finish()`` zips it and removes the scratch file.
package final class XLSXWriter {
    /// One cell.
    package enum Cell: Sendable, Equatable {
        case empty
        case text(String)
        case number(Double)
        case bool(Bool)
        /// A date-time as seconds since 1970 (UTC).
        case date(Double)
    }

    private let path: String
    private let sheetPath: String
    private let sheet: FileHandle
    private var buffer: [UInt8] = []
    private var rowCount = 0
    private let columnCount: Int

    /// Starts `path` (written by ``finish()``) with the header row `columns`, in sheet `sheetName`.
    package init(path: String, columns: [String], sheetName: String = "Licenses") throws {
        self.path = path
        self.sheetPath = path + ".sheet.xml"
        self.sheetName = sheetName
        columnCount = columns.count
        FileManager.default.createFile(atPath: sheetPath, contents: nil)
        guard let handle = FileHandle(forWritingAtPath: sheetPath) else {
            throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: sheetPath])
        }
        sheet = handle
        append(
            """
            <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
            <worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">\
            <sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" \
            state="frozen"/></sheetView></sheetViews><sheetData>
            """)
        try addRow(columns.map { .text($0) }, style: 1)
    }

    private let sheetName: String

    /// Adds a row (cells past the header's width are dropped).
    package func addRow(_ cells: [Cell]) throws { try addRow(cells, style: nil) }

    private func addRow(_ cells: [Cell], style: Int?) throws {
        rowCount += 1
        append("<row r=\"\(rowCount)\">")
        for (index, cell) in cells.prefix(columnCount).enumerated() {
            let reference = Self.columnName(index) + String(rowCount)
            let styled = style.map { " s=\"\($0)\"" } ?? ""
            switch cell {
            case .empty: continue
            case .text(let text):
                append("<c r=\"\(reference)\" t=\"inlineStr\"\(styled)><is><t xml:space=\"preserve\">")
                append(Self.escaped(text))
                append("</t></is></c>")
            case .number(let number):
                append("<c r=\"\(reference)\"\(styled)><v>\(Self.number(number))</v></c>")
            case .bool(let value):
                append("<c r=\"\(reference)\" t=\"b\"\(styled)><v>\(value ? 1 : 0)</v></c>")
            case .date(let seconds):
                // Excel's 1900 system: day 25,569 is 1970-01-01.
                let serial = seconds / 86_400 + 25_569
                append("<c r=\"\(reference)\" s=\"2\"><v>\(Self.number(serial))</v></c>")
            }
        }
        append("</row>")
        if buffer.count > 1 << 16 { try flush() }
    }

    /// Writes the workbook (replacing `path`) and removes the scratch sheet.
    package func finish() throws {
        append("</sheetData></worksheet>")
        try flush()
        try sheet.close()
        defer { try? FileManager.default.removeItem(atPath: sheetPath) }
        try? FileManager.default.removeItem(atPath: path)
        let archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .create)
        let parts: [(String, String)] = [
            ("[Content_Types].xml", Self.contentTypes), ("_rels/.rels", Self.rootRelationships),
            ("xl/workbook.xml", Self.workbook(sheetName)), ("xl/_rels/workbook.xml.rels", Self.workbookRelationships),
            ("xl/styles.xml", Self.styles),
        ]
        let fixed = Date(timeIntervalSince1970: 315_532_800)  // 1980-01-01: the same bytes for the same rows
        for (name, text) in parts {
            let data = Data(text.utf8)
            try archive.addEntry(
                with: name, type: .file, uncompressedSize: Int64(data.count), modificationDate: fixed,
                compressionMethod: .deflate
            ) { position, size in data.subdata(in: Int(position)..<Int(position) + size) }
        }
        let reader = try FileHandle(forReadingFrom: URL(fileURLWithPath: sheetPath))
        defer { try? reader.close() }
        let size = try reader.seekToEnd()
        try archive.addEntry(
            with: "xl/worksheets/sheet1.xml", type: .file, uncompressedSize: Int64(size), modificationDate: fixed,
            compressionMethod: .deflate
        ) { position, chunk in
            try reader.seek(toOffset: UInt64(position))
            return try reader.read(upToCount: chunk) ?? Data()
        }
    }

    private func append(_ text: String) { buffer.append(contentsOf: text.utf8) }

    private func flush() throws {
        try sheet.write(contentsOf: buffer)
        buffer.removeAll(keepingCapacity: true)
    }

    /// `A`…`Z`, `AA`…: the column of a zero-based index.
    package static func columnName(_ index: Int) -> String {
        var index = index + 1
        var name = ""
        while index > 0 {
            let remainder = (index - 1) % 26
            name = String(UnicodeScalar(UInt8(65 + remainder))) + name
            index = (index - 1) / 26
        }
        return name
    }

    private static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }

    /// Text as XML character data; characters XML 1.0 cannot carry are dropped.
    static func escaped(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\t", "\n", "\r": result.unicodeScalars.append(scalar)
            default:
                if scalar.value < 0x20 || scalar.value == 0xFFFE || scalar.value == 0xFFFF { continue }
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    private static let contentTypes = """
        <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
        <Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">\
        <Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>\
        <Default Extension="xml" ContentType="application/xml"/>\
        <Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>\
        <Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>\
        <Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>\
        </Types>
        """

    private static let rootRelationships = """
        <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
        <Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">\
        <Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>\
        </Relationships>
        """

    private static func workbook(_ sheetName: String) -> String {
        """
        <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
        <workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" \
        xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">\
        <sheets><sheet name="\(escaped(sheetName))" sheetId="1" r:id="rId1"/></sheets></workbook>
        """
    }

    private static let workbookRelationships = """
        <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
        <Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">\
        <Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>\
        <Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>\
        </Relationships>
        """

    /// Style 0: plain; 1: bold (the header); 2: a date-time.
    private static let styles = """
        <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
        <styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">\
        <numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy\\-mm\\-dd&quot;T&quot;hh:mm:ss&quot;Z&quot;"/></numFmts>\
        <fonts count="2"><font><sz val="11"/><name val="Calibri"/></font><font><b/><sz val="11"/><name val="Calibri"/></font></fonts>\
        <fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>\
        <borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>\
        <cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>\
        <cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>\
        <xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>\
        <xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>\
        <cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>\
        </styleSheet>
        """
}

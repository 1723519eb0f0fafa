import Foundation
import ZIPFoundation

/// Workbooks: the input is a worksheet's XML and, after a NUL byte, the shared strings' XML; they
/// are zipped with fixed workbook, relationships and styles parts (a date style at index 1) into
/// an `.xlsx`, which the reader then reads with mapping and validation under the same oracles as
/// the other formats.
func fuzzWorkbook(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    let split = bytes.firstIndex(of: 0) ?? size
    let sheet = Data(bytes[0..<split])
    let strings = split < size ? Data(bytes[(split + 1)...]) : Data()
    guard let archive = try? Archive(accessMode: .create) else { return 0 }
    func add(_ path: String, _ contents: Data) {
        try? archive.addEntry(with: path, type: .file, uncompressedSize: Int64(contents.count), compressionMethod: .deflate) { position, length in
            contents.subdata(in: Int(position)..<Int(position) + length)
        }
    }
    add("xl/workbook.xml", Data(#"<workbook xmlns:r="r"><workbookPr date1904="0"/><sheets><sheet name="Orders" sheetId="1" r:id="rId1"/></sheets></workbook>"#.utf8))
    add("xl/_rels/workbook.xml.rels", Data(#"<Relationships><Relationship Id="rId1" Target="worksheets/sheet1.xml"/></Relationships>"#.utf8))
    add("xl/styles.xml", Data(#"<styleSheet><numFmts><numFmt numFmtId="164" formatCode="dd/mm/yyyy"/></numFmts><cellXfs><xf numFmtId="0"/><xf numFmtId="164"/></cellXfs></styleSheet>"#.utf8))
    add("xl/worksheets/sheet1.xml", sheet)
    if !strings.isEmpty { add("xl/sharedStrings.xml", strings) }
    guard let zipped = archive.data else { return 0 }
    // One flags byte in front, as the other formats take it: the id column and a default product.
    var input = [UInt8(5)] + Array(zipped)
    return input.withUnsafeMutableBufferPointer { fuzzIngest($0.baseAddress!, $0.count, format: .xlsx) }
}

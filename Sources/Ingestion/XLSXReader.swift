import Foundation
import ZIPFoundation

/// Reads the rows of one worksheet of an `.xlsx` workbook (Office Open XML) as text, streamed from
/// the zip: the sheet's XML is inflated and scanned chunk by chunk, and nothing of it is held but
/// the row being read. What is held: the shared strings (one buffer and their offsets), the styles
/// that format numbers as dates, and the sheet names.
///
/// Cells become the text a CSV would have held: shared and inline strings as they are; numbers as
/// written, a whole number stored as `5.0` as `5`; booleans as `true`/`false`; a number whose style
/// is a date as the date (`2026-11-03`, or `2026-11-03T10:30:00` with a time of day — no zone, as
/// Excel keeps none), in the 1900 or the 1904 date system as the workbook says; a formula as its
/// cached value; an error value (`#N/A`) as a problem of its cell.
struct XLSXReader {
    /// One row: its number (1-based, as Excel shows it) and its cells by column (0-based).
    struct Row {
        var number: Int
        var cells: [(column: Int, text: String)]
        /// Cells holding an error value: the column and the error (`#N/A`).
        var errors: [(column: Int, error: String)]
    }

    let file: String
    private let archive: Archive
    let sheetName: String
    private let sheetPath: String
    private let strings: SharedStrings
    private let dateStyles: Set<Int>
    private let date1904: Bool

    /// Opens the workbook and the sheet named `sheet` (nil: the first one).
    init(path: String, displayName: String, sheet: String?) throws(IngestionError) {
        file = displayName
        do {
            archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .read)
        } catch {
            throw .unreadable(file: displayName, reason: "not an .xlsx workbook (it cannot be opened as a zip archive): \(error)")
        }
        let archive = self.archive
        func part(_ name: String, _ handle: (XMLScanner.Event) throws -> Void) throws(IngestionError) {
            guard let entry = archive[name] else { throw .unreadable(file: displayName, reason: "not an .xlsx workbook: it has no \(name)") }
            do {
                var scanner = XMLScanner()
                _ = try archive.extract(entry, skipCRC32: true) { data in try scanner.consume(data, handle) }
                try scanner.finish(handle)
            } catch {
                throw .unreadable(file: displayName, reason: "\(name) cannot be read: \(error)")
            }
        }
        // The workbook: its sheets, in order, and the date system.
        var sheets: [(name: String, relation: String)] = []
        var date1904 = false
        try part("xl/workbook.xml") { event in
            guard case .start(let name, let attributes, _) = event else { return }
            switch name.localName {
            case "sheet":
                let sheetName = attributes.first { $0.name == "name" }?.value ?? ""
                let relation = attributes.first { $0.name.localName == "id" && $0.name != "sheetId" }?.value ?? ""
                sheets.append((sheetName, relation))
            case "workbookPr":
                let value = attributes.first { $0.name == "date1904" }?.value ?? "0"
                date1904 = value == "1" || value.lowercased() == "true"
            default: break
            }
        }
        self.date1904 = date1904
        guard !sheets.isEmpty else { throw .unreadable(file: displayName, reason: "the workbook has no sheet") }
        let chosen: (name: String, relation: String)
        if let sheet {
            guard let found = sheets.first(where: { $0.name == sheet }) ?? sheets.first(where: { $0.name.lowercased() == sheet.lowercased() }) else {
                throw .badOption("--sheet \(sheet): \(displayName) has no sheet of that name; its sheets are: \(sheets.map(\.name).joined(separator: ", "))")
            }
            chosen = found
        } else {
            chosen = sheets[0]
        }
        sheetName = chosen.name
        // The sheet's part, through the workbook's relationships.
        var target: String?
        try part("xl/_rels/workbook.xml.rels") { event in
            guard case .start(let name, let attributes, _) = event, name.localName == "Relationship" else { return }
            if attributes.first(where: { $0.name == "Id" })?.value == chosen.relation { target = attributes.first { $0.name == "Target" }?.value }
        }
        guard let target else { throw .unreadable(file: displayName, reason: "the sheet \"\(chosen.name)\" has no part in the workbook's relationships") }
        sheetPath = target.hasPrefix("/") ? String(target.dropFirst()) : "xl/" + target
        var strings = SharedStrings()
        if archive["xl/sharedStrings.xml"] != nil { try part("xl/sharedStrings.xml") { strings.handle($0) } }
        self.strings = strings
        var styles = DateStyles()
        if archive["xl/styles.xml"] != nil { try part("xl/styles.xml") { styles.handle($0) } }
        dateStyles = styles.styles
    }

    /// Calls `body` with each row that has a cell, in order.
    func forEachRow(_ body: (Row) throws -> Void) throws {
        guard let entry = archive[sheetPath] else { throw IngestionError.unreadable(file: file, reason: "the workbook has no part \(sheetPath) for the sheet \"\(sheetName)\"") }
        var scanner = XMLScanner()
        var state = SheetState()
        do {
            _ = try archive.extract(entry, skipCRC32: true) { data in
                try scanner.consume(data) { event in try handle(event, &state, body) }
            }
            try scanner.finish { event in try handle(event, &state, body) }
        } catch let error as IngestionError {
            throw error
        } catch {
            throw IngestionError.unreadable(file: file, reason: "the sheet \"\(sheetName)\" cannot be read: \(error)")
        }
    }

    /// What the scan of a sheet is in the middle of.
    private struct SheetState {
        var row: Row?
        var lastRow = 0
        /// The cell being read: column, type, style.
        var cell: (column: Int, type: Substring, style: Int)?
        var lastColumn = -1
        var value = ""
        var inValue = false
        var inInlineText = false
        var inFormula = false
    }

    private func handle(_ event: XMLScanner.Event, _ state: inout SheetState, _ body: (Row) throws -> Void) throws {
        switch event {
        case .start(let name, let attributes, let selfClosing):
            switch name.localName {
            case "row":
                let number = attributes.first { $0.name == "r" }.flatMap { Int($0.value) } ?? state.lastRow + 1
                state.lastRow = number
                state.lastColumn = -1
                state.row = Row(number: number, cells: [], errors: [])
                if selfClosing { try finishRow(&state, body) }
            case "c":
                let reference = attributes.first { $0.name == "r" }?.value
                let column = reference.flatMap(Self.column) ?? state.lastColumn + 1
                state.lastColumn = column
                state.cell = (column, Substring(attributes.first { $0.name == "t" }?.value ?? "n"), attributes.first { $0.name == "s" }.flatMap { Int($0.value) } ?? 0)
                state.value = ""
                if selfClosing { state.cell = nil }
            case "v": state.inValue = !selfClosing
            case "t": state.inInlineText = state.cell != nil && !selfClosing
            case "f": state.inFormula = !selfClosing
            default: break
            }
        case .text(let text):
            if state.inValue || state.inInlineText { state.value += text }
        case .end(let name):
            switch name.localName {
            case "v": state.inValue = false
            case "t": state.inInlineText = false
            case "f": state.inFormula = false
            case "c":
                if let cell = state.cell {
                    switch text(of: state.value, type: cell.type, style: cell.style) {
                    case .success(let text): if !text.isEmpty { state.row?.cells.append((cell.column, text)) }
                    case .failure(let error): state.row?.errors.append((cell.column, error.error))
                    }
                }
                state.cell = nil
            case "row": try finishRow(&state, body)
            default: break
            }
        }
    }

    private func finishRow(_ state: inout SheetState, _ body: (Row) throws -> Void) throws {
        if let row = state.row, !row.cells.isEmpty || !row.errors.isEmpty { try body(row) }
        state.row = nil
    }

    struct CellError: Error { var error: String }

    /// A cell's value as text, by its type (`t`) and style (`s`).
    private func text(of value: String, type: Substring, style: Int) -> Result<String, CellError> {
        switch type {
        case "s":
            guard let index = Int(value), let string = strings[index] else { return .failure(CellError(error: "a shared string that is not in the workbook")) }
            return .success(string)
        case "inlineStr", "str": return .success(value)
        case "b": return .success(value == "1" || value.lowercased() == "true" ? "true" : "false")
        case "e": return .failure(CellError(error: value.isEmpty ? "an error" : value))
        case "d": return .success(value)  // an ISO 8601 date, as some writers store it
        default:
            guard !value.isEmpty else { return .success("") }
            if dateStyles.contains(style), let serial = Double(value) { return .success(Self.date(serial: serial, date1904: date1904)) }
            return .success(Self.number(value))
        }
    }

    /// A number as a CSV would hold it: a whole number without its `.0`.
    static func number(_ text: String) -> String {
        guard let value = Double(text), value.isFinite, value == value.rounded(), abs(value) < 9_007_199_254_740_992, text.contains(".") || text.contains("E") || text.contains("e") else { return text }
        return String(Int64(value))
    }

    /// An Excel serial date as ISO 8601: `yyyy-MM-dd`, with `THH:mm:ss` when it has a time of day.
    /// The 1900 system counts 1900-02-29, which never was (Lotus's bug, kept by Excel): serials from
    /// 61 on are one day ahead of the calendar.
    static func date(serial: Double, date1904: Bool) -> String {
        var days = Int(serial.rounded(.down))
        var seconds = Int(((serial - Double(days)) * 86_400).rounded())
        if seconds >= 86_400 { days += 1; seconds -= 86_400 }
        // Days since 1970-01-01.
        let epochDays = date1904 ? days - 24_107 : (days >= 61 ? days - 25_569 : days - 25_568)
        let (year, month, day) = civil(fromDays: epochDays)
        let date = "\(String(format: "%04d", year))-\(String(format: "%02d", month))-\(String(format: "%02d", day))"
        guard seconds > 0 else { return date }
        return date + String(format: "T%02d:%02d:%02d", seconds / 3600, seconds / 60 % 60, seconds % 60)
    }

    /// Howard Hinnant's days-to-civil: the proleptic Gregorian date `days` after 1970-01-01.
    static func civil(fromDays days: Int) -> (Int, Int, Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// `D7` → 3; `AA1` → 26.
    static func column(_ reference: String) -> Int? {
        var column = 0
        var letters = 0
        for byte in reference.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): column = column * 26 + Int(byte - UInt8(ascii: "A")) + 1; letters += 1
            case UInt8(ascii: "a")...UInt8(ascii: "z"): column = column * 26 + Int(byte - UInt8(ascii: "a")) + 1; letters += 1
            default: return letters > 0 ? column - 1 : nil
            }
        }
        return letters > 0 ? column - 1 : nil
    }

    /// 3 → `D`; 26 → `AA`.
    static func letters(_ column: Int) -> String {
        var column = column + 1
        var result: [Character] = []
        while column > 0 {
            let remainder = (column - 1) % 26
            result.insert(Character(UnicodeScalar(UInt8(65 + remainder))), at: 0)
            column = (column - 1) / 26
        }
        return String(result)
    }

    /// Excel's built-in number formats that are dates or times.
    static let builtinDateFormats: Set<Int> = Set(14...22).union(45...47).union(27...36).union(50...58)

    /// Whether a format code shows a date or time: y, d, h or s outside quotes, brackets and escapes
    /// (`m` alone could be minutes or months, and appears with the others anyway).
    static func isDateFormat(_ code: String) -> Bool {
        var inQuotes = false, inBrackets = false, escaped = false
        for character in code.lowercased() {
            if escaped { escaped = false; continue }
            switch character {
            case "\\": escaped = true
            case "\"": inQuotes.toggle()
            case "[" where !inQuotes: inBrackets = true
            case "]" where !inQuotes: inBrackets = false
            case "y", "d", "h", "s": if !inQuotes && !inBrackets { return true }
            default: break
            }
        }
        return false
    }
}

/// The styles (indexes into `cellXfs`) whose number format shows a date or time, from `styles.xml`.
struct DateStyles {
    private(set) var styles = Set<Int>()
    private var customDates = Set<Int>()
    private var inCellFormats = false
    private var index = 0

    mutating func handle(_ event: XMLScanner.Event) {
        switch event {
        case .start(let name, let attributes, let selfClosing):
            switch name.localName {
            case "numFmt":
                if let id = attributes.first(where: { $0.name == "numFmtId" }).flatMap({ Int($0.value) }),
                   let code = attributes.first(where: { $0.name == "formatCode" })?.value, XLSXReader.isDateFormat(code) {
                    customDates.insert(id)
                }
            case "cellXfs": inCellFormats = !selfClosing
            case "xf" where inCellFormats:
                let id = attributes.first { $0.name == "numFmtId" }.flatMap { Int($0.value) } ?? 0
                if XLSXReader.builtinDateFormats.contains(id) || customDates.contains(id) { styles.insert(index) }
                index += 1
            default: break
            }
        case .end(let name) where name.localName == "cellXfs": inCellFormats = false
        default: break
        }
    }
}

/// The workbook's shared strings, in one buffer, read from `sharedStrings.xml` event by event.
struct SharedStrings {
    private var bytes: [UInt8] = []
    private var ends: [Int] = []
    private var current = ""
    private var depthInPhonetic = 0
    private var inText = false
    private var inItem = false

    mutating func handle(_ event: XMLScanner.Event) {
        switch event {
        case .start(let name, _, let selfClosing):
            switch name.localName {
            case "si":
                if selfClosing { append("") } else { inItem = true; current = "" }
            case "rPh": if !selfClosing { depthInPhonetic += 1 }
            case "t": inText = inItem && depthInPhonetic == 0 && !selfClosing
            default: break
            }
        case .text(let text):
            if inText { current += text }
        case .end(let name):
            switch name.localName {
            case "t": inText = false
            case "rPh": depthInPhonetic -= 1
            case "si": append(current); inItem = false
            default: break
            }
        }
    }

    private mutating func append(_ text: String) {
        bytes.append(contentsOf: text.utf8)
        ends.append(bytes.count)
    }

    subscript(index: Int) -> String? {
        guard ends.indices.contains(index) else { return nil }
        let start = index == 0 ? 0 : ends[index - 1]
        return String(decoding: bytes[start..<ends[index]], as: UTF8.self)
    }
}

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
package struct XLSXReader {
    /// One row: its number (1-based, as Excel shows it) and its cells by column (0-based).
    package struct Row {
        package var number: Int
        package var cells: [(column: Int, text: String)]
        /// Cells holding an error value: the column and the error (`#N/A`).
        package var errors: [(column: Int, error: String)]
    }

    package let file: String
    private let archive: Archive
    package let sheetName: String
    private let sheetPath: String
    private let strings: SharedStrings
    private let dateStyles: Set<Int>
    /// Date styles whose format says UTC (a literal `Z`): their times are read with `Z`.
    private let utcDateStyles: Set<Int>
    private let date1904: Bool

    /// Opens the workbook and the sheet named `sheet` (nil: the first one).
    package init(path: String, displayName: String, sheet: String?) throws(IngestionError) {
        file = displayName
        do {
            archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .read)
        } catch {
            throw .unreadable(
                file: displayName, reason: "not an .xlsx workbook (it cannot be opened as a zip archive): \(error)")
        }
        let archive = self.archive
        func part(_ name: String, _ handle: (XMLScanner.Event) throws -> Void) throws(IngestionError) {
            guard let entry = archive[name] else {
                throw .unreadable(file: displayName, reason: "not an .xlsx workbook: it has no \(name)")
            }
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
            guard case .start(let tag, _) = event else { return }
            if tag.is("sheet") {
                sheets.append((try tag.attribute("name") ?? "", try tag.attribute("id", local: true) ?? ""))
            } else if tag.is("workbookPr") {
                let value = try tag.attribute("date1904") ?? "0"
                date1904 = value == "1" || value.lowercased() == "true"
            }
        }
        self.date1904 = date1904
        guard !sheets.isEmpty else { throw .unreadable(file: displayName, reason: "the workbook has no sheet") }
        let chosen: (name: String, relation: String)
        if let sheet {
            guard
                let found = sheets.first(where: { $0.name == sheet })
                    ?? sheets.first(where: { $0.name.lowercased() == sheet.lowercased() })
            else {
                throw .badOption(
                    "--sheet \(sheet): \(displayName) has no sheet of that name; its sheets are: \(sheets.map(\.name).joined(separator: ", "))"
                )
            }
            chosen = found
        } else {
            chosen = sheets[0]
        }
        sheetName = chosen.name
        // The sheet's part, through the workbook's relationships.
        var target: String?
        try part("xl/_rels/workbook.xml.rels") { event in
            guard case .start(let tag, _) = event, tag.is("Relationship") else { return }
            if try tag.attribute("Id") == chosen.relation { target = try tag.attribute("Target") }
        }
        guard let target else {
            throw .unreadable(
                file: displayName, reason: "the sheet \"\(chosen.name)\" has no part in the workbook's relationships")
        }
        sheetPath = target.hasPrefix("/") ? String(target.dropFirst()) : "xl/" + target
        var strings = SharedStrings()
        if archive["xl/sharedStrings.xml"] != nil { try part("xl/sharedStrings.xml") { try strings.handle($0) } }
        self.strings = strings
        var styles = DateStyles()
        if archive["xl/styles.xml"] != nil { try part("xl/styles.xml") { try styles.handle($0) } }
        dateStyles = styles.styles
        utcDateStyles = styles.utcStyles
    }

    /// Calls `body` with each row that has a cell, in order.
    package func forEachRow(_ body: (Row) throws -> Void) throws {
        guard let entry = archive[sheetPath] else {
            throw IngestionError.unreadable(
                file: file, reason: "the workbook has no part \(sheetPath) for the sheet \"\(sheetName)\"")
        }
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
        package var row: Row?
        package var lastRow = 0
        /// The cell being read: column, type, style.
        package var cell: (column: Int, type: CellType, style: Int)?
        package var lastColumn = -1
        package var value: [UInt8] = []
        package var inValue = false
        package var inInlineText = false
    }

    /// A cell's `t`: what its value is.
    package enum CellType {
        case number, shared, inline, formulaText, boolean, error, isoDate

        package init(_ raw: UnsafeBufferPointer<UInt8>?) {
            guard let raw else {
                self = .number
                return
            }
            switch String(decoding: raw, as: UTF8.self) {
            case "s": self = .shared
            case "inlineStr": self = .inline
            case "str": self = .formulaText
            case "b": self = .boolean
            case "e": self = .error
            case "d": self = .isoDate
            default: self = .number
            }
        }
    }

    private func handle(_ event: XMLScanner.Event, _ state: inout SheetState, _ body: (Row) throws -> Void) throws {
        switch event {
        case .start(let tag, let selfClosing):
            if tag.is("c") {
                var column = state.lastColumn + 1
                if let reference = tag.rawAttribute("r") {
                    guard let named = Self.column(reference) else {
                        throw IngestionError.unreadable(
                            file: file,
                            reason:
                                "the sheet \"\(sheetName)\" has a cell named \"\(String(decoding: reference.prefix(20), as: UTF8.self))\", which is no cell (columns go from A to XFD)"
                        )
                    }
                    column = named
                }
                guard column < Self.maxColumns else {
                    throw IngestionError.unreadable(
                        file: file,
                        reason: "the sheet \"\(sheetName)\" has a cell past column XFD, the last a sheet has")
                }
                state.lastColumn = column
                state.cell = selfClosing ? nil : (column, CellType(tag.rawAttribute("t")), tag.integer("s") ?? 0)
                state.value.removeAll(keepingCapacity: true)
            } else if tag.is("v") {
                state.inValue = !selfClosing
            } else if tag.is("t") {
                state.inInlineText = state.cell != nil && !selfClosing
            } else if tag.is("row") {
                let number = tag.integer("r") ?? state.lastRow + 1
                // Rows are numbered 1 to 1,048,576 and written in order (fuzz: a row "0" made a
                // problem at line 0).
                guard number > state.lastRow, number <= Self.maxRows else {
                    throw IngestionError.unreadable(
                        file: file,
                        reason: number > Self.maxRows || number < 1
                            ? "the sheet \"\(sheetName)\" has a row numbered \(number), which is no row (rows go from 1 to 1048576)"
                            : "the sheet \"\(sheetName)\" has row \(number) after row \(state.lastRow); rows must be in order (save the workbook again in Excel or LibreOffice)"
                    )
                }
                state.lastRow = number
                state.lastColumn = -1
                state.row = Row(number: number, cells: [], errors: [])
                if selfClosing { try finishRow(&state, body) }
            }
        case .text(let text):
            if state.inValue || state.inInlineText {
                if text.cdata || !text.bytes.contains(UInt8(ascii: "&")) {
                    state.value.append(contentsOf: text.bytes)
                } else {
                    state.value.append(contentsOf: try text.string().utf8)
                }
            }
        case .end(let tag):
            if tag.is("c") {
                if let cell = state.cell {
                    switch try text(of: state.value, type: cell.type, style: cell.style) {
                    case .success(let text): if !text.isEmpty { state.row?.cells.append((cell.column, text)) }
                    case .failure(let error): state.row?.errors.append((cell.column, error.error))
                    }
                }
                state.cell = nil
            } else if tag.is("v") {
                state.inValue = false
            } else if tag.is("t") {
                state.inInlineText = false
            } else if tag.is("row") {
                try finishRow(&state, body)
            }
        }
    }

    private func finishRow(_ state: inout SheetState, _ body: (Row) throws -> Void) throws {
        if let row = state.row, !row.cells.isEmpty || !row.errors.isEmpty { try body(row) }
        state.row = nil
    }

    package struct CellError: Error { var error: String }

    /// A cell's value as text, by its type (`t`) and style (`s`).
    private func text(of value: [UInt8], type: CellType, style: Int) throws -> Result<String, CellError> {
        switch type {
        case .shared:
            guard let index = value.withUnsafeBufferPointer(XMLScanner.integer), let string = strings[index] else {
                return .failure(CellError(error: "a shared string that is not in the workbook"))
            }
            return .success(string)
        case .inline, .formulaText, .isoDate: return .success(String(decoding: value, as: UTF8.self))
        case .boolean:
            return .success(
                value == [UInt8(ascii: "1")] || String(decoding: value, as: UTF8.self).lowercased() == "true"
                    ? "true" : "false")
        case .error:
            return .failure(CellError(error: value.isEmpty ? "an error" : String(decoding: value, as: UTF8.self)))
        case .number:
            guard !value.isEmpty else { return .success("") }
            let text = String(decoding: value, as: UTF8.self)
            if dateStyles.contains(style), let serial = Double(text) {
                let date = Self.date(serial: serial, date1904: date1904)
                return .success(utcDateStyles.contains(style) && date.count > 10 ? date + "Z" : date)
            }
            return .success(Self.number(text))
        }
    }
}

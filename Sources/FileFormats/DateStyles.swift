import Foundation

/// The styles (indexes into `cellXfs`) whose number format shows a date or time, from `styles.xml`;
/// and of those, the ones whose format ends with a literal `Z` (`yyyy-mm-dd"T"hh:mm:ss"Z"`, as
/// `licprov pull` writes them): times in UTC, read as such.
package struct DateStyles {
    private(set) var styles = Set<Int>()
    private(set) var utcStyles = Set<Int>()
    private var customDates = Set<Int>()
    private var customUTC = Set<Int>()
    private var inCellFormats = false
    private var index = 0

    package mutating func handle(_ event: XMLScanner.Event) throws {
        switch event {
        case .start(let tag, let selfClosing):
            if tag.is("numFmt") {
                if let id = tag.integer("numFmtId"), let code = try tag.attribute("formatCode"),
                    XLSXReader.isDateFormat(code)
                {
                    customDates.insert(id)
                    if code.hasSuffix("\"Z\"") || code.hasSuffix("\\Z") { customUTC.insert(id) }
                }
            } else if tag.is("cellXfs") {
                inCellFormats = !selfClosing
            } else if tag.is("xf"), inCellFormats {
                let id = tag.integer("numFmtId") ?? 0
                if XLSXReader.builtinDateFormats.contains(id) || customDates.contains(id) { styles.insert(index) }
                if customUTC.contains(id) { utcStyles.insert(index) }
                index += 1
            }
        case .end(let tag) where tag.is("cellXfs"): inCellFormats = false
        default: break
        }
    }
}

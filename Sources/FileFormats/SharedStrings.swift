import Foundation

/// The workbook's shared strings, in one buffer, read from `sharedStrings.xml` event by event.
package struct SharedStrings {
    private var bytes: [UInt8] = []
    private var ends: [Int] = []
    private var current = ""
    private var depthInPhonetic = 0
    private var inText = false
    private var inItem = false

    package mutating func handle(_ event: XMLScanner.Event) throws {
        switch event {
        case .start(let tag, let selfClosing):
            if tag.is("si") {
                if selfClosing {
                    append("")
                } else {
                    inItem = true
                    current = ""
                }
            } else if tag.is("rPh") {
                if !selfClosing { depthInPhonetic += 1 }
            } else if tag.is("t") {
                inText = inItem && depthInPhonetic == 0 && !selfClosing
            }
        case .text(let text):
            if inText { current += try text.string() }
        case .end(let tag):
            if tag.is("t") {
                inText = false
            } else if tag.is("rPh") {
                depthInPhonetic -= 1
            } else if tag.is("si") {
                append(current)
                inItem = false
            }
        }
    }

    private mutating func append(_ text: String) {
        bytes.append(contentsOf: text.utf8)
        ends.append(bytes.count)
    }

    package subscript(index: Int) -> String? {
        guard ends.indices.contains(index) else { return nil }
        let start = index == 0 ? 0 : ends[index - 1]
        return String(decoding: bytes[start..<ends[index]], as: UTF8.self)
    }
}

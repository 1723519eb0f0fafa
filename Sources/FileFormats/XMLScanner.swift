/// A pull scanner for the small, regular XML of an `.xlsx` package (worksheets, shared strings,
/// styles, the workbook): fed chunks as they are inflated, it reports element starts with their
/// attributes, element ends, and text, without holding the document.
///
/// Written here rather than taken from a library: the XML parsers in reach (Foundation's
/// `XMLParser`, and XMLCoder and SWXMLHash on top of it) need libxml2 at run time on Linux, which
/// the statically linked binary would then depend on, and build whole documents or callbacks per
/// node; a worksheet of 100,000 rows is tens of MB of XML read once, front to back. What it does
/// not do, on purpose: DTDs, processing instructions and comments are skipped; namespaces are
/// kept as written in names (`x:row`), so callers compare local names. Events borrow the scanner's
/// buffer: a tag's name and attributes, and text, are read (and strings made) only when asked.
package struct XMLScanner {
    /// A start or end tag, borrowed from the scanner's buffer for the length of the callback: its
    /// name and attributes are read on demand, and make no string unless asked for one.
    package struct Tag {
        /// The tag's bytes between `<` (or `</`) and `>` (a self-closing tag's `/` left out).
        package let bytes: UnsafeBufferPointer<UInt8>
        package let nameEnd: Int

        package init(_ bytes: UnsafeBufferPointer<UInt8>) {
            self.bytes = bytes
            var end = 0
            while end < bytes.count, !XMLScanner.isSpace(bytes[end]) { end += 1 }
            nameEnd = end
        }

        /// Whether the tag's local name (after any `prefix:`) is `name`.
        package func `is`(_ name: StaticString) -> Bool {
            var start = 0
            for index in 0..<nameEnd where bytes[index] == UInt8(ascii: ":") { start = index + 1 }
            return XMLScanner.equal(bytes, start..<nameEnd, name)
        }

        package var name: String { String(decoding: bytes[0..<nameEnd], as: UTF8.self) }

        /// The raw (not entity-decoded) value of the attribute `name`: its local name when `local`.
        package func rawAttribute(_ name: StaticString, local: Bool = false) -> UnsafeBufferPointer<UInt8>? {
            var index = nameEnd
            while index < bytes.count {
                while index < bytes.count, XMLScanner.isSpace(bytes[index]) { index += 1 }
                let nameStart = index
                var localStart = index
                while index < bytes.count, bytes[index] != UInt8(ascii: "="), !XMLScanner.isSpace(bytes[index]) {
                    if bytes[index] == UInt8(ascii: ":") { localStart = index + 1 }
                    index += 1
                }
                let attributeName = (local ? localStart : nameStart)..<index
                while index < bytes.count, XMLScanner.isSpace(bytes[index]) || bytes[index] == UInt8(ascii: "=") {
                    index += 1
                }
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") || bytes[index] == UInt8(ascii: "'")
                else { return nil }
                let quote = bytes[index]
                let valueStart = index + 1
                index = valueStart
                while index < bytes.count, bytes[index] != quote { index += 1 }
                guard index < bytes.count else { return nil }
                if XMLScanner.equal(bytes, attributeName, name) {
                    return UnsafeBufferPointer(rebasing: bytes[valueStart..<index])
                }
                index += 1
            }
            return nil
        }

        /// The value of the attribute `name`, entity-decoded.
        package func attribute(_ name: StaticString, local: Bool = false) throws -> String? {
            guard let raw = rawAttribute(name, local: local) else { return nil }
            return try XMLScanner.decode(raw, 0..<raw.count)
        }

        /// The attribute `name` as a whole number.
        package func integer(_ name: StaticString) -> Int? {
            rawAttribute(name).flatMap(XMLScanner.integer)
        }
    }

    package enum Event {
        case start(Tag, selfClosing: Bool)
        case end(Tag)
        /// Text between tags, borrowed: `text()` decodes it (CDATA as is).
        case text(Text)
    }

    package struct Text {
        package let bytes: UnsafeBufferPointer<UInt8>
        package let cdata: Bool

        package func string() throws -> String {
            cdata ? String(decoding: bytes, as: UTF8.self) : try XMLScanner.decode(bytes, 0..<bytes.count)
        }
    }

    /// A document that is not well-formed enough to read.
    package struct Malformed: Error, CustomStringConvertible {
        package var description: String
    }

    private var pending: [UInt8] = []

    /// Scans `chunk` after what was left over, reporting every complete event; an incomplete tag
    /// or text at the end is kept for the next chunk.
    package mutating func consume(_ chunk: some Collection<UInt8>, _ emit: (Event) throws -> Void) throws {
        pending.append(contentsOf: chunk)
        let consumed = try pending.withUnsafeBufferPointer { try scan($0, final: false, emit) }
        pending.removeFirst(consumed)
    }

    /// Reports what is left at the end of the document.
    package mutating func finish(_ emit: (Event) throws -> Void) throws {
        _ = try pending.withUnsafeBufferPointer { try scan($0, final: true, emit) }
        pending = []
    }

    /// Scans complete events from `bytes`; returns how many bytes were consumed.
    private func scan(_ bytes: UnsafeBufferPointer<UInt8>, final: Bool, _ emit: (Event) throws -> Void) throws -> Int {
        var index = 0
        let count = bytes.count
        func slice(_ range: Range<Int>) -> UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(rebasing: bytes[range]) }
        while index < count {
            if bytes[index] != UInt8(ascii: "<") {
                // Text up to the next tag.
                var end = index
                while end < count, bytes[end] != UInt8(ascii: "<") { end += 1 }
                if end == count && !final { return index }
                try emit(.text(Text(bytes: slice(index..<end), cdata: false)))
                index = end
                continue
            }
            guard index + 1 < count else { return final ? count : index }
            switch bytes[index + 1] {
            case UInt8(ascii: "?"):  // <?xml … ?>
                guard let close = Self.find(bytes, "?>", from: index + 2) else { return final ? count : index }
                index = close + 2
            case UInt8(ascii: "!"):
                if Self.matches(bytes, "<![CDATA[", at: index) {
                    guard let close = Self.find(bytes, "]]>", from: index + 9) else { return final ? count : index }
                    try emit(.text(Text(bytes: slice((index + 9)..<close), cdata: true)))
                    index = close + 3
                } else if Self.matches(bytes, "<!--", at: index) {
                    guard let close = Self.find(bytes, "-->", from: index + 4) else { return final ? count : index }
                    index = close + 3
                } else {  // <!DOCTYPE …>
                    guard let close = Self.find(bytes, ">", from: index + 2) else { return final ? count : index }
                    index = close + 1
                }
            case UInt8(ascii: "/"):
                guard let close = Self.find(bytes, ">", from: index + 2) else { return final ? count : index }
                try emit(.end(Tag(slice((index + 2)..<close))))
                index = close + 1
            default:
                guard let close = Self.tagEnd(bytes, from: index + 1) else { return final ? count : index }
                let selfClosing = bytes[close - 1] == UInt8(ascii: "/")
                try emit(.start(Tag(slice((index + 1)..<(selfClosing ? close - 1 : close))), selfClosing: selfClosing))
                index = close + 1
            }
        }
        return index
    }

    /// The `>` that ends a start tag, past quoted attribute values.
    private static func tagEnd(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        var quote: UInt8 = 0
        var index = start
        while index < bytes.count {
            let byte = bytes[index]
            if quote != 0 {
                if byte == quote { quote = 0 }
            } else if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") {
                quote = byte
            } else if byte == UInt8(ascii: ">") {
                return index
            }
            index += 1
        }
        return nil
    }

    /// Digits as a whole number (nil: none, or anything else in them).
    package static func integer(_ bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        guard !bytes.isEmpty, bytes.count < 19 else { return nil }
        var value = 0
        for byte in bytes {
            guard byte >= 0x30, byte <= 0x39 else { return nil }
            value = value * 10 + Int(byte - 0x30)
        }
        return value
    }

    package static func equal(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ text: StaticString) -> Bool {
        guard range.count == text.utf8CodeUnitCount else { return false }
        let pointer = text.utf8Start
        for offset in 0..<range.count where bytes[range.lowerBound + offset] != pointer[offset] { return false }
        return true
    }

    /// The text of `range` with `&amp;`, `&lt;`, `&gt;`, `&quot;`, `&apos;` and `&#…;` decoded.
    package static func decode(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) throws -> String {
        var hasEntity = false
        for index in range where bytes[index] == UInt8(ascii: "&") {
            hasEntity = true
            break
        }
        guard hasEntity else { return String(decoding: bytes[range], as: UTF8.self) }
        var out: [UInt8] = []
        out.reserveCapacity(range.count)
        var index = range.lowerBound
        while index < range.upperBound {
            let byte = bytes[index]
            guard byte == UInt8(ascii: "&") else {
                out.append(byte)
                index += 1
                continue
            }
            var end = index + 1
            while end < range.upperBound, bytes[end] != UInt8(ascii: ";"), end - index < 12 { end += 1 }
            guard end < range.upperBound, bytes[end] == UInt8(ascii: ";") else {
                throw Malformed(description: "an & that starts no entity")
            }
            let entity = String(decoding: bytes[(index + 1)..<end], as: UTF8.self)
            switch entity {
            case "amp": out.append(UInt8(ascii: "&"))
            case "lt": out.append(UInt8(ascii: "<"))
            case "gt": out.append(UInt8(ascii: ">"))
            case "quot": out.append(UInt8(ascii: "\""))
            case "apos": out.append(UInt8(ascii: "'"))
            default:
                let code: UInt32? =
                    entity.hasPrefix("#x") || entity.hasPrefix("#X")
                    ? UInt32(entity.dropFirst(2), radix: 16)
                    : entity.hasPrefix("#") ? UInt32(entity.dropFirst()) : nil
                guard let code, let scalar = Unicode.Scalar(code) else {
                    throw Malformed(description: "the entity &\(entity); is not one XML knows")
                }
                out.append(contentsOf: String(Character(scalar)).utf8)
            }
            index = end + 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    package static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }

    private static func matches(_ bytes: UnsafeBufferPointer<UInt8>, _ text: StaticString, at index: Int) -> Bool {
        let count = text.utf8CodeUnitCount
        guard index + count <= bytes.count else { return false }
        let pointer = text.utf8Start
        for offset in 0..<count where bytes[index + offset] != pointer[offset] { return false }
        return true
    }

    private static func find(_ bytes: UnsafeBufferPointer<UInt8>, _ text: StaticString, from start: Int) -> Int? {
        var index = start
        let first = text.utf8Start[0]
        while index < bytes.count {
            if bytes[index] == first, matches(bytes, text, at: index) { return index }
            index += 1
        }
        return nil
    }
}

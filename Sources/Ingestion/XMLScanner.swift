/// A pull scanner for the small, regular XML of an `.xlsx` package (worksheets, shared strings,
/// styles, the workbook): fed chunks as they are inflated, it reports element starts with their
/// attributes, element ends, and text, without holding the document.
///
/// Written here rather than taken from a library: the XML parsers in reach (Foundation's
/// `XMLParser`, and XMLCoder and SWXMLHash on top of it) need libxml2 at run time on Linux, which
/// the statically linked binary would then depend on, and build whole documents or callbacks per
/// node; a worksheet of 100,000 rows is tens of MB of XML read once, front to back. What it does
/// not do, on purpose: DTDs, processing instructions and comments are skipped; namespaces are
/// kept as written in names (`x:row`), so callers compare local names.
struct XMLScanner {
    enum Event {
        /// `name` and its attributes, already entity-decoded; `selfClosing` for `<c .../>`.
        case start(name: Substring, attributes: [(name: Substring, value: String)], selfClosing: Bool)
        case end(name: Substring)
        /// Text between tags, entity-decoded (CDATA included as is).
        case text(String)
    }

    /// A document that is not well-formed enough to read.
    struct Malformed: Error, CustomStringConvertible {
        var description: String
    }

    private var pending: [UInt8] = []

    /// Scans `chunk` after what was left over, reporting every complete event; an incomplete tag
    /// or text at the end is kept for the next chunk.
    mutating func consume(_ chunk: some Collection<UInt8>, _ emit: (Event) throws -> Void) throws {
        pending.append(contentsOf: chunk)
        let consumed = try pending.withUnsafeBufferPointer { try scan($0, final: false, emit) }
        pending.removeFirst(consumed)
    }

    /// Reports what is left at the end of the document.
    mutating func finish(_ emit: (Event) throws -> Void) throws {
        _ = try pending.withUnsafeBufferPointer { try scan($0, final: true, emit) }
        pending = []
    }

    /// Scans complete events from `bytes`; returns how many bytes were consumed.
    private func scan(_ bytes: UnsafeBufferPointer<UInt8>, final: Bool, _ emit: (Event) throws -> Void) throws -> Int {
        var index = 0
        let count = bytes.count
        while index < count {
            if bytes[index] != UInt8(ascii: "<") {
                // Text up to the next tag.
                var end = index
                while end < count, bytes[end] != UInt8(ascii: "<") { end += 1 }
                if end == count && !final { return index }
                if Self.hasContent(bytes, index..<end) { try emit(.text(try Self.decode(bytes, index..<end))) }
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
                    try emit(.text(String(decoding: bytes[(index + 9)..<close], as: UTF8.self)))
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
                try emit(.end(name: Self.name(bytes, (index + 2)..<close)))
                index = close + 1
            default:
                guard let close = Self.tagEnd(bytes, from: index + 1) else { return final ? count : index }
                let selfClosing = bytes[close - 1] == UInt8(ascii: "/")
                try emit(try Self.start(bytes, (index + 1)..<(selfClosing ? close - 1 : close), selfClosing: selfClosing))
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

    private static func start(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, selfClosing: Bool) throws -> Event {
        var index = range.lowerBound
        while index < range.upperBound, !isSpace(bytes[index]) { index += 1 }
        let name = Self.name(bytes, range.lowerBound..<index)
        var attributes: [(name: Substring, value: String)] = []
        while index < range.upperBound {
            while index < range.upperBound, isSpace(bytes[index]) { index += 1 }
            guard index < range.upperBound else { break }
            let nameStart = index
            while index < range.upperBound, bytes[index] != UInt8(ascii: "="), !isSpace(bytes[index]) { index += 1 }
            let attributeName = Self.name(bytes, nameStart..<index)
            while index < range.upperBound, isSpace(bytes[index]) || bytes[index] == UInt8(ascii: "=") { index += 1 }
            guard index < range.upperBound, bytes[index] == UInt8(ascii: "\"") || bytes[index] == UInt8(ascii: "'") else {
                throw Malformed(description: "an attribute of <\(name)> has no quoted value")
            }
            let quote = bytes[index]
            let valueStart = index + 1
            index = valueStart
            while index < range.upperBound, bytes[index] != quote { index += 1 }
            guard index < range.upperBound else { throw Malformed(description: "an attribute of <\(name)> is not closed") }
            attributes.append((attributeName, try decode(bytes, valueStart..<index)))
            index += 1
        }
        return .start(name: name, attributes: attributes, selfClosing: selfClosing)
    }

    private static func name(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Substring {
        var end = range.upperBound
        while end > range.lowerBound, isSpace(bytes[end - 1]) { end -= 1 }
        return Substring(String(decoding: bytes[range.lowerBound..<end], as: UTF8.self))
    }

    /// The text of `range` with `&amp;`, `&lt;`, `&gt;`, `&quot;`, `&apos;` and `&#…;` decoded.
    static func decode(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) throws -> String {
        var hasEntity = false
        for index in range where bytes[index] == UInt8(ascii: "&") { hasEntity = true; break }
        guard hasEntity else { return String(decoding: bytes[range], as: UTF8.self) }
        var out: [UInt8] = []
        out.reserveCapacity(range.count)
        var index = range.lowerBound
        while index < range.upperBound {
            let byte = bytes[index]
            guard byte == UInt8(ascii: "&") else { out.append(byte); index += 1; continue }
            var end = index + 1
            while end < range.upperBound, bytes[end] != UInt8(ascii: ";"), end - index < 12 { end += 1 }
            guard end < range.upperBound, bytes[end] == UInt8(ascii: ";") else { throw Malformed(description: "an & that starts no entity") }
            let entity = String(decoding: bytes[(index + 1)..<end], as: UTF8.self)
            switch entity {
            case "amp": out.append(UInt8(ascii: "&"))
            case "lt": out.append(UInt8(ascii: "<"))
            case "gt": out.append(UInt8(ascii: ">"))
            case "quot": out.append(UInt8(ascii: "\""))
            case "apos": out.append(UInt8(ascii: "'"))
            default:
                let code: UInt32? = entity.hasPrefix("#x") || entity.hasPrefix("#X") ? UInt32(entity.dropFirst(2), radix: 16)
                    : entity.hasPrefix("#") ? UInt32(entity.dropFirst()) : nil
                guard let code, let scalar = Unicode.Scalar(code) else { throw Malformed(description: "the entity &\(entity); is not one XML knows") }
                out.append(contentsOf: String(Character(scalar)).utf8)
            }
            index = end + 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func hasContent(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Bool {
        for index in range where !isSpace(bytes[index]) { return true }
        return false
    }

    private static func isSpace(_ byte: UInt8) -> Bool {
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

extension Substring {
    /// The name without its namespace prefix (`x:row` → `row`).
    var localName: Substring {
        guard let colon = lastIndex(of: ":") else { return self }
        return self[index(after: colon)...]
    }
}

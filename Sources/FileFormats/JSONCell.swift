/// A JSON value read from an order file, and its byte-level parser (which is why this file is
/// longer than most). Numbers keep their text, so `1.0`, `1e3` and
/// `99999999999` reach the field parsers as written and are judged there with a precise message.
package enum JSONCell: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(String)
    case string(String)
    case array([JSONCell])
    /// Members in file order.
    case object([JSONMember])

    package static func == (lhs: JSONCell, rhs: JSONCell) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): true
        case (.bool(let a), .bool(let b)): a == b
        case (.number(let a), .number(let b)): a == b
        case (.string(let a), .string(let b)): a == b
        case (.array(let a), .array(let b)): a == b
        case (.object(let a), .object(let b)): a == b
        default: false
        }
    }

    /// The kind, for messages ("a number", "an array").
    package var kindDescription: String {
        switch self {
        case .null: "null"
        case .bool: "true/false"
        case .number: "a number"
        case .string: "text"
        case .array: "an array"
        case .object: "an object"
        }
    }
}

/// One member of a JSON object. (A struct, not a tuple: tuple types are built at run time, on
/// every use, in code that is not specialised.)
package struct JSONMember: Sendable, Equatable {
    package var name: String
    package var value: JSONCell
}

/// Parses one JSON value from bytes, reporting the byte offset of the first error.
package struct JSONCellParser {
    package struct Failure: Error {
        package var offset: Int
        package var reason: String
    }

    package let bytes: UnsafeBufferPointer<UInt8>
    package var index = 0

    package init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    /// Parses the whole buffer as exactly one value.
    package static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> Result<JSONCell, Failure> {
        var parser = JSONCellParser(bytes: bytes)
        do throws(Failure) {
            let value = try parser.value(depth: 0)
            parser.skipWhitespace()
            guard parser.index == bytes.count else {
                throw Failure(offset: parser.index, reason: "unexpected text after the value")
            }
            return .success(value)
        } catch {
            return .failure(error)
        }
    }

    /// Parses the whole buffer as exactly one value, handing an object's members to `member` one
    /// by one (the name's bytes, unescaped, and the value) instead of collecting them: the
    /// caller resolves names from bytes, without a string each. Returns the value when it is not
    /// an object, nil when it is.
    package static func parseMembers(
        _ bytes: UnsafeBufferPointer<UInt8>, member: (UnsafeBufferPointer<UInt8>, JSONCell) -> Void
    ) -> Result<JSONCell?, Failure> {
        var parser = JSONCellParser(bytes: bytes)
        do throws(Failure) {
            parser.skipWhitespace()
            let value: JSONCell?
            if parser.index < bytes.count, bytes[parser.index] == UInt8(ascii: "{") {
                try parser.objectMembers(depth: 0, member)
                value = nil
            } else {
                value = try parser.value(depth: 0)
            }
            parser.skipWhitespace()
            guard parser.index == bytes.count else {
                throw Failure(offset: parser.index, reason: "unexpected text after the value")
            }
            return .success(value)
        } catch {
            return .failure(error)
        }
    }

    /// Reads an object from its `{`, giving each member to `member`.
    private mutating func objectMembers(depth: Int, _ member: (UnsafeBufferPointer<UInt8>, JSONCell) -> Void)
        throws(Failure)
    {
        guard depth < 64 else { throw fail("nested too deeply") }
        index += 1
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            return
        }
        while true {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else {
                throw fail("expected a quoted field name")
            }
            let name = try nameBytes()
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else {
                throw fail(
                    "expected ':' after the field name \"\(name.withBytes(in: bytes) { String(decoding: $0, as: UTF8.self) })\""
                )
            }
            index += 1
            let value = try value(depth: depth + 1)
            name.withBytes(in: bytes) { member($0, value) }
            skipWhitespace()
            guard index < bytes.count else { throw fail("the object is not closed") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
                continue
            }
            if bytes[index] == UInt8(ascii: "}") {
                index += 1
                return
            }
            throw fail("expected ',' or '}' in the object")
        }
    }

    /// A member name: where it is in the input when it has no escapes (the usual case), or
    /// the unescaped text.
    private enum Name {
        case inPlace(Range<Int>)
        case unescaped(String)

        package func withBytes<R>(in bytes: UnsafeBufferPointer<UInt8>, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R
        {
            switch self {
            case .inPlace(let range): return body(UnsafeBufferPointer(rebasing: bytes[range]))
            case .unescaped(var text): return text.withUTF8(body)
            }
        }
    }

    /// Where the text starting at `start` stops being plain (a quote, a backslash, a control
    /// character, or the end), and the OR of its bytes (below 0x80: ASCII, no UTF-8 to check).
    private func plainRun(from start: Int) -> (end: Int, highBits: UInt8) {
        var scan = start
        var highBits: UInt8 = 0
        while scan < bytes.count {
            let byte = bytes[scan]
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte < 0x20 { break }
            highBits |= byte
            scan += 1
        }
        return (scan, highBits)
    }

    private mutating func nameBytes() throws(Failure) -> Name {
        let (scan, highBits) = plainRun(from: index + 1)
        if scan < bytes.count, bytes[scan] == UInt8(ascii: "\""), highBits < 0x80 {
            defer { index = scan + 1 }
            return .inPlace(index + 1..<scan)
        }
        return .unescaped(try string())
    }

    package mutating func skipWhitespace() {
        while index < bytes.count,
            bytes[index] == 0x20 || bytes[index] == 0x0A || bytes[index] == 0x0D || bytes[index] == 0x09
        {
            index += 1
        }
    }

    private func fail(_ reason: String) -> Failure { Failure(offset: index, reason: reason) }

    package mutating func value(depth: Int) throws(Failure) -> JSONCell {
        guard depth < 64 else { throw fail("nested too deeply") }
        skipWhitespace()
        guard index < bytes.count else { throw fail("unexpected end of the value") }
        switch bytes[index] {
        case UInt8(ascii: "{"):
            var members: [JSONMember] = []
            try objectMembers(depth: depth) { name, value in
                members.append(JSONMember(name: String(decoding: name, as: UTF8.self), value: value))
            }
            return .object(members)
        case UInt8(ascii: "["):
            index += 1
            var items: [JSONCell] = []
            skipWhitespace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
                index += 1
                return .array(items)
            }
            while true {
                items.append(try value(depth: depth + 1))
                skipWhitespace()
                guard index < bytes.count else { throw fail("the array is not closed") }
                if bytes[index] == UInt8(ascii: ",") {
                    index += 1
                    continue
                }
                if bytes[index] == UInt8(ascii: "]") {
                    index += 1
                    return .array(items)
                }
                throw fail("expected ',' or ']' in the array")
            }
        case UInt8(ascii: "\""):
            return .string(try string())
        case UInt8(ascii: "t"):
            try literal("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try literal("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try literal("null")
            return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
        default: throw fail("unexpected character '\(Unicode.Scalar(bytes[index]))'")
        }
    }

    private mutating func literal(_ word: StaticString) throws(Failure) {
        let count = word.utf8CodeUnitCount
        guard index + count <= bytes.count else { throw fail("unexpected end of the value") }
        for offset in 0..<count where bytes[index + offset] != word.utf8Start[offset] {
            throw fail("unknown word; expected \(word)")
        }
        index += count
    }

    private mutating func number() throws(Failure) -> JSONCell {
        let start = index
        func digits() -> Bool {
            let from = index
            while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 { index += 1 }
            return index > from
        }
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        let integerStart = index
        guard digits() else { throw fail("a number needs digits") }
        if bytes[integerStart] == 0x30, index - integerStart > 1 {
            throw Failure(offset: integerStart, reason: "numbers must not start with 0")
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard digits() else { throw fail("a decimal point needs digits after it") }
        }
        if index < bytes.count, bytes[index] | 0x20 == UInt8(ascii: "e") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                index += 1
            }
            guard digits() else { throw fail("an exponent needs digits") }
        }
        return .number(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self))
    }

    private mutating func string() throws(Failure) -> String {
        index += 1
        // Fast path: no escapes before the closing quote; make the string from the bytes in place.
        let (scan, highBits) = plainRun(from: index)
        if scan < bytes.count, bytes[scan] == UInt8(ascii: "\"") {
            let slice = UnsafeBufferPointer(rebasing: bytes[index..<scan])
            let text: String?
            if highBits < 0x80 {
                text = String(unsafeUninitializedCapacity: slice.count) {
                    _ = $0.initialize(fromContentsOf: slice)
                    return slice.count
                }
            } else {
                text = String(validating: slice, as: UTF8.self)
            }
            guard let text else {
                throw Failure(offset: index, reason: "text that is not valid UTF-8; save the file as UTF-8")
            }
            index = scan + 1
            return text
        }
        var out: [UInt8] = []
        var runStart = index
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                out += UnsafeBufferPointer(rebasing: bytes[runStart..<index])
                index += 1
                guard let text = String(validating: out, as: UTF8.self) else {
                    throw Failure(offset: runStart, reason: "text that is not valid UTF-8; save the file as UTF-8")
                }
                return text
            }
            if byte < 0x20 {
                throw fail(
                    byte == 0
                        ? "a NUL byte inside text" : "a line break or control character inside text; write it as \\n")
            }
            if byte == UInt8(ascii: "\\") {
                out += UnsafeBufferPointer(rebasing: bytes[runStart..<index])
                index += 1
                guard index < bytes.count else { break }
                let escape = bytes[index]
                index += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(escape)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var code = try hex4()
                    if (0xD800..<0xDC00).contains(code), index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"),
                        bytes[index + 1] == UInt8(ascii: "u")
                    {
                        index += 2
                        let low = try hex4()
                        guard (0xDC00..<0xE000).contains(low) else {
                            throw fail("an unpaired UTF-16 surrogate in \\u escapes")
                        }
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let scalar = Unicode.Scalar(code) else { throw fail("an invalid \\u escape") }
                    out += Array(String(Character(scalar)).utf8)
                default:
                    throw fail("an unknown escape \\\(Unicode.Scalar(escape))")
                }
                runStart = index
                continue
            }
            index += 1
        }
        throw fail("text is not closed with a quote")
    }

    private mutating func hex4() throws(Failure) -> UInt32 {
        guard index + 4 <= bytes.count else { throw fail("a \\u escape needs four hex digits") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index] | 0x20
            let digit: UInt32
            switch byte {
            case 0x30...0x39: digit = UInt32(byte - 0x30)
            case 0x61...0x66: digit = UInt32(byte - 0x61 + 10)
            default: throw fail("a \\u escape needs four hex digits")
            }
            value = value << 4 | digit
            index += 1
        }
        return value
    }
}

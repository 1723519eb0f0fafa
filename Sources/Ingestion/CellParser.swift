import CryptlexModels
import FileFormats

/// Turns a cell into a typed field value, or into a message a person can act on.
///
/// Only types are judged here; bounds and lengths are the validator's, so that values from
/// flags and defaults are checked by the same code as values from the file.
enum CellParser {
    /// `dates` reads local date formats and date-times written without a zone (``DateReading``).
    static func parse(_ cell: Cell, as kind: LicenseField.Kind, dates: DateReading = DateReading()) -> Result<
        LicenseField.Value, CellProblem
    > {
        switch kind {
        case .text: return text(cell).map(LicenseField.Value.text)
        case .int32:
            return integer(cell).flatMap { value in
                guard let narrow = Int32(exactly: value) else {
                    return .failure(CellProblem("must be between \(Int32.min) and \(Int32.max), not \(value)"))
                }
                return .success(.int(Int64(narrow)))
            }
        case .bool: return boolean(cell)
        case .dateTime: return text(cell).flatMap { dates.normalize($0) }.map(LicenseField.Value.text)
        case .duration: return text(cell).flatMap(DurationText.validate).map(LicenseField.Value.text)
        case .stringList: return stringList(cell).map(LicenseField.Value.list)
        case .choice(let allowed):
            return text(cell).flatMap { value in
                if allowed.contains(value) { return .success(.text(value)) }
                if let match = allowed.first(where: { $0.caseInsensitiveEquals(value.trimmed) }) {
                    return .success(.text(match))
                }
                return .failure(
                    CellProblem("must be one of \(allowed.joined(separator: ", ")), not \"\(value.prefix(40))\""))
            }
        case .metadata: return metadata(cell).map(LicenseField.Value.metadata)
        case .meterAttributes: return meters(cell).map(LicenseField.Value.meters)
        }
    }

    static func text(_ cell: Cell) -> Result<String, CellProblem> {
        switch cell {
        case .text(let text): return .success(text)
        case .json(.string(let text)): return .success(text)
        case .json(.number(let text)): return .success(text)
        case .json(let other): return .failure(CellProblem("must be text, not \(other.kindDescription)"))
        }
    }

    static func integer(_ cell: Cell) -> Result<Int64, CellProblem> {
        let raw: String
        switch cell {
        case .text(let text): raw = text.trimmed
        case .json(.number(let text)): raw = text
        case .json(.string(let text)): raw = text.trimmed
        case .json(let other): return .failure(CellProblem("must be a whole number, not \(other.kindDescription)"))
        }
        if let value = Int64(raw) { return .success(value) }
        if raw.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }), Double(raw) != nil {
            if let whole = Double(raw), whole == whole.rounded(), abs(whole) < 9e15,
                !raw.contains(where: { $0 == "e" || $0 == "E" })
            {
                return .failure(
                    CellProblem("must be a whole number written without a decimal point (\(Int64(whole))), not \(raw)"))
            }
            return .failure(CellProblem("must be a whole number, not \(raw)"))
        }
        if raw.allSatisfy({ $0.isNumber || $0 == "-" }), !raw.isEmpty {
            return .failure(CellProblem("is too large: \(raw.prefix(30))"))
        }
        return .failure(CellProblem("must be a whole number, not \"\(raw.prefix(40))\""))
    }

    static func boolean(_ cell: Cell) -> Result<LicenseField.Value, CellProblem> {
        let raw: String
        switch cell {
        case .json(.bool(let flag)): return .success(.bool(flag))
        case .json(.number(let text)): raw = text
        case .json(.string(let text)), .text(let text): raw = text.trimmed
        case .json(let other): return .failure(CellProblem("must be true or false, not \(other.kindDescription)"))
        }
        switch raw.lowercased() {
        case "true", "yes", "1": return .success(.bool(true))
        case "false", "no", "0": return .success(.bool(false))
        default: return .failure(CellProblem("must be true/false, yes/no or 1/0, not \"\(raw.prefix(40))\""))
        }
    }

    static func stringList(_ cell: Cell) -> Result<[String], CellProblem> {
        switch cell {
        case .text(let text):
            return .success(splitList(text))
        case .json(.array(let items)):
            var strings: [String] = []
            for (index, item) in items.enumerated() {
                guard case .string(let text) = item else {
                    return .failure(CellProblem("item \(index + 1) must be text, not \(item.kindDescription)"))
                }
                strings.append(text)
            }
            return .success(strings)
        case .json(.string(let text)):
            return .success(splitList(text))
        case .json(let other):
            return .failure(CellProblem("must be an array of text, not \(other.kindDescription)"))
        }
    }

    /// `a| b ||c` → `["a", "b", "c"]`: split on `|`, trimmed, empty items dropped.
    static func splitList(_ text: String) -> [String] {
        var items: [String] = []
        var start = text.utf8.startIndex
        let utf8 = text.utf8
        var index = start
        func take(_ end: String.Index) {
            let item = String(text[start..<end]).trimmed
            if !item.isEmpty { items.append(item) }
        }
        while index != utf8.endIndex {
            if utf8[index] == UInt8(ascii: "|") {
                take(index)
                start = utf8.index(after: index)
            }
            index = utf8.index(after: index)
        }
        take(utf8.endIndex)
        return items
    }

    /// The JSON value of a cell: as it is for JSON input, parsed from the text for CSV.
    static func json(_ cell: Cell) -> JSONCell? {
        switch cell {
        case .json(let value): value
        case .text(let text): Array(text.utf8).withUnsafeBufferPointer { try? JSONCellParser.parse($0).get() }
        }
    }

    static func metadata(_ cell: Cell) -> Result<[LicenseMetadata], CellProblem> {
        // A CSV column named `metadata` may hold the JSON form.
        guard let value = json(cell) else {
            return .failure(
                CellProblem(
                    "must be JSON ([{\"key\":…,\"value\":…}] or {\"key\": \"value\"}); or use one metadata.<key> column per key"
                ))
        }
        switch value {
        case .object(let members):
            var entries: [LicenseMetadata] = []
            for member in members {
                let key = member.name
                switch text(.json(member.value)) {
                case .success(let text): entries.append(LicenseMetadata(key: key, value: text))
                case .failure(let problem): return .failure(CellProblem("\(key): \(problem.message)"))
                }
            }
            return .success(entries)
        case .array(let items):
            var entries: [LicenseMetadata] = []
            for (index, item) in items.enumerated() {
                guard case .object(let members) = item else {
                    return .failure(
                        CellProblem(
                            "entry \(index + 1) must be an object with key and value, not \(item.kindDescription)"))
                }
                var key: String?
                var entryValue: String?
                var permissions: [ViewPermission]?
                for entry in members {
                    let member = entry.value
                    switch entry.name {
                    case "key": key = try? text(.json(member)).get()
                    case "value": entryValue = try? text(.json(member)).get()
                    case "viewPermissions":
                        guard case .success(let names) = stringList(.json(member)) else {
                            return .failure(CellProblem("entry \(index + 1): viewPermissions must be an array of text"))
                        }
                        var parsed: [ViewPermission] = []
                        for name in names {
                            guard let permission = ViewPermission(rawValue: name) else {
                                return .failure(
                                    CellProblem(
                                        "entry \(index + 1): viewPermissions must hold \(ViewPermission.allCases.map(\.rawValue).joined(separator: ", ")), not \"\(name)\""
                                    ))
                            }
                            parsed.append(permission)
                        }
                        permissions = parsed
                    case "visible": break
                    default:
                        return .failure(
                            CellProblem(
                                "entry \(index + 1) has an unknown field \"\(entry.name)\" (expected key, value, viewPermissions)"
                            ))
                    }
                }
                guard let key, let entryValue else {
                    return .failure(CellProblem("entry \(index + 1) needs both key and value"))
                }
                entries.append(LicenseMetadata(key: key, value: entryValue, viewPermissions: permissions))
            }
            return .success(entries)
        default:
            return .failure(CellProblem("must be an array of {key, value} or an object, not \(value.kindDescription)"))
        }
    }

    static func meters(_ cell: Cell) -> Result<[LicenseMeterAttribute], CellProblem> {
        guard let value = json(cell) else {
            return .failure(CellProblem("must be a JSON array of {\"name\":…,\"allowedUses\":…}"))
        }
        guard case .array(let items) = value else {
            return .failure(CellProblem("must be an array, not \(value.kindDescription)"))
        }
        var meters: [LicenseMeterAttribute] = []
        for (index, item) in items.enumerated() {
            guard case .object(let members) = item,
                let name = members.first(where: { $0.name == "name" }).flatMap({ try? text(.json($0.value)).get() }),
                let usesCell = members.first(where: { $0.name == "allowedUses" })?.value,
                case .success(let uses) = integer(.json(usesCell))
            else {
                return .failure(CellProblem("entry \(index + 1) needs a name and a whole-number allowedUses"))
            }
            var meter = LicenseMeterAttribute(name: name, allowedUses: uses)
            if let floating = members.first(where: { $0.name == "floating" })?.value, case .bool(let flag) = floating {
                meter.floating = flag
            }
            meters.append(meter)
        }
        return .success(meters)
    }
}

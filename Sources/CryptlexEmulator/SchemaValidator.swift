import Foundation

/// Checks JSON bodies against the component schemas of the published OpenAPI subset.
///
/// It understands the keywords the subset uses: `type`, `format` (`int32`, `int64`, `date-time`,
/// `email`), `enum`, `minimum`, `maximum`, `minLength`, `maxLength`, `maxItems`, `required`,
/// `properties`, `additionalProperties: false`, `nullable`, `items` and `$ref`. Unknown keywords are
/// ignored, as JSON Schema prescribes. The document is compiled once into a tree of
/// ``SchemaNode``s, so a check does no string lookups into the raw document.
public struct SchemaValidator: Sendable {
    /// A schema violation, with the JSON path of the offending value (`metadata[1].key`).
    public struct Violation: Sendable, Equatable, CustomStringConvertible {
        public var path: String
        public var message: String
        public var description: String { path.isEmpty ? message : "\(path): \(message)" }
    }

    private let raw: [String: JSONValue]
    private let compiled: [String: SchemaNode]

    /// Loads and compiles the component schemas of an OpenAPI document.
    public init(openAPIDocument data: Data) throws {
        guard let document = JSONValue.parse(data),
            let schemas = document.objectValue?["components"]?.objectValue?["schemas"]?.objectValue
        else {
            throw EmulatorError.badSchemaDocument("no components.schemas object")
        }
        raw = schemas
        compiled = schemas.mapValues(SchemaNode.init)
    }

    /// Loads the copy of the Cryptlex v3 subset that ships as this module's resource.
    public static func bundled() throws -> SchemaValidator {
        guard let url = Bundle.module.url(forResource: "cryptlex-v3-subset", withExtension: "json") else {
            throw EmulatorError.badSchemaDocument("cryptlex-v3-subset.json is missing from the bundle")
        }
        return try SchemaValidator(openAPIDocument: Data(contentsOf: url))
    }

    /// The property names a component schema declares, sorted.
    public func propertyNames(of schemaName: String) -> [String] {
        compiled[schemaName]?.properties.keys.sorted() ?? []
    }

    /// The raw component schema, for contract tests.
    public func schema(named name: String) -> JSONValue? { raw[name] }

    /// Every violation of `value` against the component schema `schemaName`.
    public func validate(_ value: JSONValue, against schemaName: String) -> [Violation] {
        var violations: [Violation] = []
        if let node = compiled[schemaName] { check(value, node, path: "", into: &violations) }
        return violations
    }

    private func check(_ value: JSONValue, _ unresolved: SchemaNode, path: String, into violations: inout [Violation]) {
        let node = unresolved.ref.flatMap { compiled[$0] } ?? unresolved
        func fail(_ message: String) { violations.append(Violation(path: path, message: message)) }

        if case .null = value {
            if !node.nullable { fail("must not be null") }
            return
        }
        if let allowed = node.enumValues {
            guard case .string(let string) = value, allowed.contains(string) else {
                return fail("must be one of \(allowed.joined(separator: ", ")), not \(Self.render(value))")
            }
            return
        }
        switch node.type {
        case .string:
            guard case .string(let string) = value else { return fail("must be a string, not \(value.kindName)") }
            let length = node.minLength != nil || node.maxLength != nil ? string.count : 0
            if let minLength = node.minLength, length < minLength {
                fail(minLength == 1 ? "must not be empty" : "must be at least \(minLength) characters, not \(length)")
            }
            if let maxLength = node.maxLength, length > maxLength {
                fail("must be at most \(maxLength) characters, not \(length)")
            }
            switch node.format {
            case .dateTime where RFC3339.parse(string) == nil:
                fail("must be an RFC 3339 date-time, not \"\(string.prefix(40))\"")
            case .email where !Self.looksLikeEmail(string):
                fail("must be an email address, not \"\(string.prefix(40))\"")
            default: break
            }
        case .integer:
            guard case .int(let number) = value else { return fail("must be an integer, not \(Self.render(value))") }
            if node.format == .int32, number < Int64(Int32.min) || number > Int64(Int32.max) {
                return fail("must fit in 32 bits, not \(number)")
            }
            if let minimum = node.minimum, Double(number) < minimum {
                fail("must be at least \(Int64(minimum)), not \(number)")
            }
            if let maximum = node.maximum, Double(number) > maximum {
                fail(
                    "must be at most \(maximum >= 9.2e18 ? "9223372036854775807" : String(Int64(maximum))), not \(number)"
                )
            }
        case .number:
            switch value {
            case .int, .double: break
            default: fail("must be a number, not \(value.kindName)")
            }
        case .boolean:
            guard case .bool = value else { return fail("must be true or false, not \(Self.render(value))") }
        case .array:
            guard case .array(let items) = value else { return fail("must be an array, not \(value.kindName)") }
            if let maxItems = node.maxItems, items.count > maxItems {
                fail("must have at most \(maxItems) items, not \(items.count)")
            }
            if let itemNode = node.items {
                for (index, item) in items.enumerated() {
                    check(item, itemNode, path: "\(path)[\(index)]", into: &violations)
                }
            }
        case .object:
            guard case .object(let members) = value else { return fail("must be an object, not \(value.kindName)") }
            for name in node.required where members[name] == nil {
                violations.append(Violation(path: Self.join(path, name), message: "is required"))
            }
            for name in members.keys.sorted() {
                if let property = node.properties[name] {
                    check(members[name]!, property, path: Self.join(path, name), into: &violations)
                } else if node.closed {
                    violations.append(Violation(path: Self.join(path, name), message: "is not a known field"))
                }
            }
        case nil:
            break
        }
    }

    static func looksLikeEmail(_ string: String) -> Bool {
        let parts = string.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[1].contains("."),
            !parts[1].hasPrefix("."), !parts[1].hasSuffix(".")
        else { return false }
        return !string.contains(where: { $0.isWhitespace })
    }

    private static func join(_ path: String, _ name: String) -> String { path.isEmpty ? name : "\(path).\(name)" }

    private static func render(_ value: JSONValue) -> String {
        switch value {
        case .string(let string): "\"\(string.prefix(40))\""
        case .int(let number): String(number)
        case .double(let number): String(number)
        case .bool(let flag): String(flag)
        default: value.kindName
        }
    }
}

/// One compiled schema: the keywords the validator uses, with `$ref` kept as a component name.
final class SchemaNode: Sendable {
    enum Kind: String, Sendable { case string, integer, number, boolean, array, object }
    enum Format: Sendable { case int32, int64, dateTime, email, other }

    let ref: String?
    let type: Kind?
    let format: Format?
    let nullable: Bool
    let enumValues: [String]?
    let minimum: Double?
    let maximum: Double?
    let minLength: Int?
    let maxLength: Int?
    let maxItems: Int?
    let required: [String]
    let properties: [String: SchemaNode]
    /// `additionalProperties: false`.
    let closed: Bool
    let items: SchemaNode?

    init(_ value: JSONValue) {
        let fields = value.objectValue ?? [:]
        func number(_ name: String) -> Double? {
            switch fields[name] {
            case .int(let number)?: Double(number)
            case .double(let number)?: number
            default: nil
            }
        }
        ref = fields["$ref"]?.stringValue.flatMap { $0.split(separator: "/").last.map(String.init) }
        type = fields["type"]?.stringValue.flatMap(Kind.init(rawValue:))
        format = fields["format"]?.stringValue.map {
            switch $0 {
            case "int32": .int32
            case "int64": .int64
            case "date-time": .dateTime
            case "email": .email
            default: .other
            }
        }
        nullable = fields["nullable"] == .bool(true)
        enumValues = fields["enum"]?.arrayValue?.compactMap(\.stringValue)
        minimum = number("minimum")
        maximum = number("maximum")
        minLength = number("minLength").map { Int($0) }
        maxLength = number("maxLength").map { Int($0) }
        maxItems = number("maxItems").map { Int($0) }
        required = fields["required"]?.arrayValue?.compactMap(\.stringValue) ?? []
        properties = (fields["properties"]?.objectValue ?? [:]).mapValues(SchemaNode.init)
        closed = fields["additionalProperties"] == .bool(false)
        items = fields["items"].map(SchemaNode.init)
    }
}

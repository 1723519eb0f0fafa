import Foundation

/// Checks JSON bodies against the component schemas of the published OpenAPI subset.
///
/// It understands the keywords the subset uses: `type`, `format` (`int32`, `int64`, `date-time`,
/// `email`), `enum`, `minimum`, `maximum`, `minLength`, `maxLength`, `maxItems`, `required`,
/// `properties`, `additionalProperties: false`, `nullable`, `items` and `$ref`. Unknown keywords are
/// ignored, as JSON Schema prescribes.
public struct SchemaValidator: Sendable {
    /// A schema violation, with the JSON path of the offending value (`metadata[1].key`).
    public struct Violation: Sendable, Equatable, CustomStringConvertible {
        public var path: String
        public var message: String
        public var description: String { path.isEmpty ? message : "\(path): \(message)" }
    }

    private let schemas: [String: JSONValue]

    /// Loads the component schemas from an OpenAPI document.
    public init(openAPIDocument data: Data) throws {
        let document = try JSONDecoder().decode(JSONValue.self, from: data)
        guard let schemas = document.objectValue?["components"]?.objectValue?["schemas"]?.objectValue else {
            throw EmulatorError.badSchemaDocument("no components.schemas object")
        }
        self.schemas = schemas
    }

    /// Loads the copy of the Cryptlex v3 subset that ships as this module's resource.
    public static func bundled() throws -> SchemaValidator {
        guard let url = Bundle.module.url(forResource: "cryptlex-v3-subset", withExtension: "json") else {
            throw EmulatorError.badSchemaDocument("cryptlex-v3-subset.json is missing from the bundle")
        }
        return try SchemaValidator(openAPIDocument: Data(contentsOf: url))
    }

    /// The property names a component schema declares, for tests and error messages.
    public func propertyNames(of schemaName: String) -> [String] {
        guard let properties = schemas[schemaName]?.objectValue?["properties"]?.objectValue else { return [] }
        return properties.keys.sorted()
    }

    /// The raw component schema, for contract tests.
    public func schema(named name: String) -> JSONValue? { schemas[name] }

    /// Every violation of `value` against the component schema `schemaName`, in document order.
    public func validate(_ value: JSONValue, against schemaName: String) -> [Violation] {
        var violations: [Violation] = []
        check(value, schema: .object(["$ref": .string("#/components/schemas/\(schemaName)")]), path: "", into: &violations)
        return violations
    }

    private func resolve(_ schema: [String: JSONValue]) -> [String: JSONValue] {
        guard let ref = schema["$ref"]?.stringValue else { return schema }
        let name = String(ref.split(separator: "/").last ?? "")
        return schemas[name]?.objectValue ?? [:]
    }

    private func check(_ value: JSONValue, schema raw: JSONValue, path: String, into violations: inout [Violation]) {
        guard let unresolved = raw.objectValue else { return }
        let schema = resolve(unresolved)
        func fail(_ message: String) { violations.append(Violation(path: path, message: message)) }

        if case .null = value {
            if schema["nullable"] != .bool(true) { fail("must not be null") }
            return
        }
        if let allowed = schema["enum"]?.arrayValue, !allowed.contains(value) {
            let names = allowed.compactMap(\.stringValue).joined(separator: ", ")
            fail("must be one of \(names), not \(Self.render(value))")
            return
        }
        switch schema["type"]?.stringValue {
        case "string":
            guard case .string(let string) = value else { return fail("must be a string, not \(value.kindName)") }
            checkString(string, schema: schema, fail: fail)
        case "integer":
            guard case .int(let number) = value else { return fail("must be an integer, not \(Self.render(value))") }
            if schema["format"]?.stringValue == "int32", number < Int64(Int32.min) || number > Int64(Int32.max) {
                return fail("must fit in 32 bits, not \(number)")
            }
            if let minimum = Self.number(schema["minimum"]), Double(number) < minimum {
                fail("must be at least \(Int64(minimum)), not \(number)")
            }
            if let maximum = Self.number(schema["maximum"]), Double(number) > maximum {
                fail("must be at most \(Self.renderBound(maximum)), not \(number)")
            }
        case "number":
            switch value {
            case .int, .double: break
            default: fail("must be a number, not \(value.kindName)")
            }
        case "boolean":
            guard case .bool = value else { return fail("must be true or false, not \(Self.render(value))") }
        case "array":
            guard case .array(let items) = value else { return fail("must be an array, not \(value.kindName)") }
            if let maxItems = Self.number(schema["maxItems"]), Double(items.count) > maxItems {
                fail("must have at most \(Int(maxItems)) items, not \(items.count)")
            }
            if let itemSchema = schema["items"] {
                for (index, item) in items.enumerated() {
                    check(item, schema: itemSchema, path: "\(path)[\(index)]", into: &violations)
                }
            }
        case "object":
            guard case .object(let members) = value else { return fail("must be an object, not \(value.kindName)") }
            let properties = schema["properties"]?.objectValue ?? [:]
            for name in schema["required"]?.arrayValue?.compactMap(\.stringValue) ?? [] where members[name] == nil {
                violations.append(Violation(path: Self.join(path, name), message: "is required"))
            }
            for (name, member) in members.sorted(by: { $0.key < $1.key }) {
                if let propertySchema = properties[name] {
                    check(member, schema: propertySchema, path: Self.join(path, name), into: &violations)
                } else if schema["additionalProperties"] == .bool(false) {
                    violations.append(Violation(path: Self.join(path, name), message: "is not a known field"))
                }
            }
        default:
            break
        }
    }

    private func checkString(_ string: String, schema: [String: JSONValue], fail: (String) -> Void) {
        let length = string.count
        if let minLength = Self.number(schema["minLength"]), Double(length) < minLength {
            fail(minLength == 1 ? "must not be empty" : "must be at least \(Int(minLength)) characters, not \(length)")
        }
        if let maxLength = Self.number(schema["maxLength"]), Double(length) > maxLength {
            fail("must be at most \(Int(maxLength)) characters, not \(length)")
        }
        switch schema["format"]?.stringValue {
        case "date-time":
            if RFC3339.parse(string) == nil { fail("must be an RFC 3339 date-time, not \"\(string.prefix(40))\"") }
        case "email":
            if !Self.looksLikeEmail(string) { fail("must be an email address, not \"\(string.prefix(40))\"") }
        default:
            break
        }
    }

    static func looksLikeEmail(_ string: String) -> Bool {
        let parts = string.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[1].contains("."),
              !parts[1].hasPrefix("."), !parts[1].hasSuffix(".") else { return false }
        return !string.contains(where: { $0.isWhitespace })
    }

    private static func join(_ path: String, _ name: String) -> String { path.isEmpty ? name : "\(path).\(name)" }

    private static func number(_ value: JSONValue?) -> Double? {
        switch value {
        case .int(let number): Double(number)
        case .double(let number): number
        default: nil
        }
    }

    private static func renderBound(_ bound: Double) -> String {
        bound >= 9.2e18 ? "9223372036854775807" : String(Int64(bound))
    }

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

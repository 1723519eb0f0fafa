import CryptlexAPI
import CryptlexEmulator
import CryptlexModels
import Foundation
import Testing

/// The client's wire type against the published schema: every `LicenseRequestModel` property
/// must survive a decode and re-encode through `LicenseRequest` with its JSON name and type.
@Suite("LicenseRequest matches the published schema")
struct LicenseRequestContractTests {
    static let validator = try! SchemaValidator.bundled()
    static let properties = validator.propertyNames(of: "LicenseRequestModel")

    @Test func theSchemaDeclaresTheFieldsWeExpect() {
        #expect(Self.properties.count == 48)
        #expect(Self.properties.contains("productId"))
    }

    @Test(arguments: properties)
    func propertyRoundTrips(name: String) throws {
        let schema = try #require(
            Self.validator.schema(named: "LicenseRequestModel")?.objectValue?["properties"]?.objectValue?[name])
        let sample = Self.sample(for: schema)
        var object: [String: JSONValue] = ["productId": .string("prod-1")]
        object[name] = sample
        let input = try JSONEncoder().encode(JSONValue.object(object))
        let decoded = try JSONDecoder().decode(LicenseRequest.self, from: input)
        let reencoded = try JSONDecoder().decode(JSONValue.self, from: Data(CryptlexClient.encodedBody(decoded)))
        #expect(reencoded.objectValue?[name] == sample, "\(name) did not round-trip through LicenseRequest")
        // What the client sends passes the schema check the emulator applies.
        #expect(Self.validator.validate(reencoded, against: "LicenseRequestModel").isEmpty)
    }

    @Test func aFullyPopulatedRequestSendsOnlySchemaFields() throws {
        var object: [String: JSONValue] = [:]
        let schemas = try #require(
            Self.validator.schema(named: "LicenseRequestModel")?.objectValue?["properties"]?.objectValue)
        for (name, schema) in schemas { object[name] = Self.sample(for: schema) }
        let decoded = try JSONDecoder().decode(
            LicenseRequest.self, from: JSONEncoder().encode(JSONValue.object(object)))
        let sent = try JSONDecoder().decode(JSONValue.self, from: Data(CryptlexClient.encodedBody(decoded)))
        #expect(Set(sent.objectValue?.keys.map { $0 } ?? []) == Set(Self.properties))
        #expect(Self.validator.validate(sent, against: "LicenseRequestModel").isEmpty)
    }

    @Test func unsetFieldsAreLeftOutNotSentAsNull() throws {
        let body = String(decoding: CryptlexClient.encodedBody(LicenseRequest(productId: "p")), as: UTF8.self)
        #expect(body == #"{"productId":"p"}"#)
    }

    /// Organizations and resellers: a fully populated request sends every property of its create
    /// schema, with names and types the schema accepts (the emulator's check).
    @Test(arguments: ["OrganizationCreateRequestModel", "ResellerCreateRequestModel"])
    func directoryRequestsSendEverySchemaField(model: String) throws {
        var object: [String: JSONValue] = [:]
        let schemas = try #require(Self.validator.schema(named: model)?.objectValue?["properties"]?.objectValue)
        for (name, schema) in schemas { object[name] = Self.sample(for: schema) }
        object["email"] = .string("it@example.io")
        let input = try JSONEncoder().encode(JSONValue.object(object))
        let encoded: Data =
            model.hasPrefix("Organization")
            ? try JSONEncoder().encode(try JSONDecoder().decode(OrganizationRequest.self, from: input))
            : try JSONEncoder().encode(try JSONDecoder().decode(ResellerRequest.self, from: input))
        let sent = try JSONDecoder().decode(JSONValue.self, from: encoded)
        #expect(Set(sent.objectValue?.keys.map { $0 } ?? []) == Set(schemas.keys))
        #expect(Self.validator.validate(sent, against: model).isEmpty)
        #expect(sent == .object(object))
    }

    /// A valid value for a property schema, following `$ref`s into the subset.
    static func sample(for schema: JSONValue) -> JSONValue {
        guard var fields = schema.objectValue else { return .null }
        if let ref = fields["$ref"]?.stringValue, let name = ref.split(separator: "/").last,
            let target = validator.schema(named: String(name))?.objectValue
        {
            fields = target
        }
        if let first = fields["enum"]?.arrayValue?.first { return first }
        switch fields["type"]?.stringValue {
        case "string":
            if fields["format"]?.stringValue == "date-time" { return .string("2024-01-02T03:04:05.1234567Z") }
            return .string(String(repeating: "k", count: 16))
        case "integer":
            if case .int(let minimum)? = fields["minimum"] { return .int(max(minimum, 180)) }
            return .int(200)
        case "boolean": return .bool(true)
        case "array": return .array([sample(for: fields["items"] ?? .null)])
        case "object":
            var object: [String: JSONValue] = [:]
            for name in fields["required"]?.arrayValue?.compactMap(\.stringValue) ?? [] {
                object[name] = sample(for: fields["properties"]?.objectValue?[name] ?? .null)
            }
            return .object(object)
        default: return .null
        }
    }
}

import CryptlexEmulator
import Testing

@testable import Ingestion

/// The mapping table against the published schema: every body field has a column, with the
/// schema's type.
@Suite("The field table covers the published schema")
struct LicenseFieldTableTests {
    static let validator = try! SchemaValidator.bundled()

    @Test func everySchemaPropertyHasAFieldOfTheRightKind() throws {
        let properties = try #require(
            Self.validator.schema(named: "LicenseRequestModel")?.objectValue?["properties"]?.objectValue)
        #expect(Set(LicenseFieldTable.all.map(\.name)) == Set(properties.keys))
        for field in LicenseFieldTable.all {
            let schema = try #require(properties[field.name]?.objectValue)
            let type = schema["type"]?.stringValue ?? (schema["$ref"] != nil ? "string" : nil)
            switch field.kind {
            case .text, .dateTime, .duration: #expect(type == "string", "\(field.name)")
            case .int32: #expect(type == "integer" && schema["format"]?.stringValue == "int32", "\(field.name)")
            case .bool: #expect(type == "boolean", "\(field.name)")
            case .stringList, .metadata, .meterAttributes: #expect(type == "array", "\(field.name)")
            case .choice(let allowed):
                let refName = schema["$ref"]?.stringValue?.split(separator: "/").last.map(String.init)
                let values = (refName.flatMap { Self.validator.schema(named: $0) }?.objectValue ?? schema)["enum"]?
                    .arrayValue?.compactMap(\.stringValue)
                #expect(values == allowed, "\(field.name)")
            }
            if case .dateTime = field.kind { #expect(schema["format"]?.stringValue == "date-time") }
            #expect(field.deprecated == (schema["deprecated"] == .bool(true)), "\(field.name)")
        }
    }
}

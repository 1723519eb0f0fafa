/// Any JSON value, for comparing a license's fields with what a change set (and keeping them as
/// they were before it). Numbers are compared as doubles.
package enum JSONAny: Sendable, Hashable, Codable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONAny])
    case object([String: JSONAny])

    package init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
            return
        }
        if let value = try? container.decode(String.self) {
            self = .string(value)
            return
        }
        if let value = try? container.decode(Bool.self) {
            self = .bool(value)
            return
        }
        if let value = try? container.decode(Double.self) {
            self = .number(value)
            return
        }
        if let value = try? container.decode([JSONAny].self) {
            self = .array(value)
            return
        }
        self = .object(try container.decode([String: JSONAny].self))
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .number(let value):
            if value == value.rounded(), abs(value) < 9e15 {
                try container.encode(Int64(value))
            } else {
                try container.encode(value)
            }
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }
}

/// A license as the server returned it: the fields licprov reads, and every field as JSON.
package struct LicenseSnapshot: Decodable, Sendable, Equatable {
    package var license: License
    package var fields: [String: JSONAny]

    package init(license: License, fields: [String: JSONAny]) {
        self.license = license
        self.fields = fields
    }

    package init(from decoder: any Decoder) throws {
        license = try License(from: decoder)
        fields = try [String: JSONAny](from: decoder)
    }
}

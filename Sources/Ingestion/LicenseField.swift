import CryptlexModels

/// One body field of `POST /v3/licenses` as a column can set it: its JSON name, how a cell is
/// read, and where the value goes in ``LicenseRequest``.
package struct LicenseField: Sendable {
    /// How a cell is read into the field.
    package enum Kind: Sendable, Equatable {
        case text
        case int32
        case bool
        /// An RFC 3339 date-time; a bare date means midnight UTC.
        case dateTime
        /// An ISO 8601 duration (`P1Y`, `P6M`, `PT24H`).
        case duration
        /// `|`-separated in CSV, an array of strings in JSON.
        case stringList
        /// One of these spellings.
        case choice([String])
        /// `[{key, value}]` or `{key: value}` in JSON; `metadata.<key>` columns in CSV.
        case metadata
        /// A JSON array of `{name, allowedUses}`.
        case meterAttributes
    }

    /// A cell read and typed, ready to store.
    package enum Value: Sendable, Equatable {
        case text(String)
        case int(Int64)
        case bool(Bool)
        case list([String])
        case metadata([LicenseMetadata])
        case meters([LicenseMeterAttribute])
    }

    /// The JSON name, as the schema spells it.
    package let name: String
    package let kind: Kind
    /// Deprecated by Cryptlex but accepted, for older exports.
    package let deprecated: Bool
    let store: @Sendable (inout LicenseRequest, Value) -> Void

    init(
        _ name: String, _ kind: Kind, deprecated: Bool = false,
        _ store: @escaping @Sendable (inout LicenseRequest, Value) -> Void
    ) {
        self.name = name
        self.kind = kind
        self.deprecated = deprecated
        self.store = store
    }
}

extension LicenseField.Value {
    var text: String? { if case .text(let value) = self { value } else { nil } }
    var int32: Int32? { if case .int(let value) = self { Int32(exactly: value) } else { nil } }
    var bool: Bool? { if case .bool(let value) = self { value } else { nil } }
    var list: [String]? { if case .list(let value) = self { value } else { nil } }
}

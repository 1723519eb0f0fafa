import CryptlexModels
import FileFormats
import Foundation
import Ingestion

/// A pulled license, as the pull keeps it: the `LicenseDto` the API returned, every field, with
/// its `user` (email, first and last name), `organization` and `reseller` (id and name) filled in —
/// the API's own shape, so `--format cryptlex` writes it as it is and `run --from cryptlex` reads it.
///
/// licprov's own layout (CSV, NDJSON, `.xlsx`) is one row per license: `licenseId`, `key`,
/// `productId`, every other field `run` reads as a column that any pulled license has (in the
/// schema's order), `metadata.KEY` for every metadata key, then the customer and directory columns
/// `run` reads: `email`, `firstName`, `lastName`, `organization.name`, `reseller.name`. The ids of the
/// account's users, organizations and resellers are left out: their names and emails say it.
package enum PulledLicense {
    /// Fields of the schema the layout leaves out (the linked objects show as names).
    static let omitted: Set<String> = ["key", "productId", "metadata", "userId", "organizationId", "resellerId"]

    /// The layout's field columns for the fields pulled licenses had, in the schema's order.
    package static func fieldColumns(present: Set<String>) -> [LicenseField] {
        LicenseFieldTable.all.filter { present.contains($0.name) && !omitted.contains($0.name) }
    }

    /// Every column of the layout.
    package static func columns(fields: [LicenseField], metadataKeys: [String]) -> [String] {
        ["licenseId", "key", "productId"] + fields.map(\.name) + metadataKeys.map { "metadata." + $0 }
            + ["email", "firstName", "lastName", "organization.name", "reseller.name"]
    }

    /// The fields of the layout a license has (for the columns: what any pulled license had).
    static func presentFields(_ license: [String: JSONAny]) -> [String] {
        license.compactMap { name, value in value == .null ? nil : name }
    }

    /// The metadata keys of a license.
    static func metadataKeys(_ license: [String: JSONAny]) -> [String] {
        guard case .array(let entries)? = license["metadata"] else { return [] }
        return entries.compactMap { entry in
            if case .object(let fields) = entry, case .string(let key)? = fields["key"] { key } else { nil }
        }
    }

    /// What `field` (a column or a `--where` field) holds for this license; nil: nothing.
    static func value(of field: String, in license: [String: JSONAny]) -> JSONAny? {
        func member(_ object: String, _ name: String) -> JSONAny? {
            if case .object(let fields)? = license[object] { fields[name] } else { nil }
        }
        switch field {
        case "licenseId", "id": return license["id"]
        case "email", "user.email": return member("user", "email")
        case "firstName", "user.firstName": return member("user", "firstName")
        case "lastName", "user.lastName": return member("user", "lastName")
        case "organization.name": return member("organization", "name")
        case "reseller.name": return member("reseller", "name")
        default:
            if field.hasPrefix("metadata.") {
                let key = String(field.dropFirst("metadata.".count))
                guard case .array(let entries)? = license["metadata"] else { return nil }
                for case .object(let fields) in entries where fields["key"] == .string(key) { return fields["value"] }
                return nil
            }
            return license[field]
        }
    }

    /// A row of the layout as JSON values (NDJSON): lists as arrays, numbers and booleans typed.
    static func jsonRow(_ license: [String: JSONAny], columns: [String]) -> [String: JSONAny] {
        var row: [String: JSONAny] = [:]
        for column in columns {
            if let value = value(of: column, in: license), value != .null { row[column] = value }
        }
        return row
    }

    /// A row of the layout as text cells (CSV): lists `|`-separated, as `run` reads them.
    static func textRow(_ license: [String: JSONAny], columns: [String]) -> [String] {
        columns.map { column in text(value(of: column, in: license)) }
    }

    /// A row of the layout as typed workbook cells.
    static func cells(_ license: [String: JSONAny], columns: [String], kinds: [String: LicenseField.Kind])
        -> [XLSXWriter.Cell]
    {
        columns.map { column in
            guard let value = value(of: column, in: license), value != .null else { return .empty }
            switch (value, kinds[column]) {
            case (.number(let number), _): return .number(number)
            case (.bool(let flag), _): return .bool(flag)
            case (.string(let text), .dateTime?):
                if let date = CryptlexTimestamp(text)?.date { return .date(date.timeIntervalSince1970) }
                return .text(text)
            default: return .text(text(value))
            }
        }
    }

    static func text(_ value: JSONAny?) -> String {
        if case .array(let items)? = value, items.allSatisfy({ if case .string = $0 { true } else { false } }) {
            return items.map { PullCondition.text($0) }.joined(separator: "|")
        }
        return PullCondition.text(value)
    }

    /// A JSON value as compact text, keys sorted.
    static func json(_ value: JSONAny) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }
}

import CryptlexAPI
import CryptlexModels
import Foundation

/// `--where FIELD=VALUE` (and `!=`, `<`, `>`): which licenses a pull lists. Each condition is
/// checked on our side on every license the API returns; the ones the API can filter by are also
/// sent, so that fewer pages come back (``apiFilters``):
///
/// | field | sent to the API as |
/// |---|---|
/// | `key`, `licenseId` (`id`) | `key[eq|ne]`, `id[eq|ne]` |
/// | `user.email` | `user.email[eq|ne]` |
/// | `organization.name`, `reseller.name` (`=`) | `organizationId[in]`, `resellerId[in]`: the name resolved first |
/// | `metadata.KEY` (`=`) | `metadata.key[eq]` and `metadata.value[eq]` |
/// | `revoked`, `suspended` | `revoked=true|false` |
/// | `createdAt`, `expiresAt` | `createdAt[eq|ne|lt|gt]` |
///
/// Every other license field (`allowedActivations<5`, `notes=…`, `user.firstName=…`) and every
/// `!=` on a name or a metadata entry is applied on our side only.
package struct PullCondition: Sendable, Hashable, CustomStringConvertible {
    package enum Comparison: String, Sendable, CaseIterable {
        case notEqual = "!="
        case less = "<"
        case greater = ">"
        case equal = "="
    }

    package var field: String
    package var comparison: Comparison
    package var value: String

    package var description: String { field + comparison.rawValue + value }

    /// The fields a condition may name, besides `metadata.KEY`.
    package static let namedFields: Set<String> = [
        "licenseId", "id", "key", "productId", "createdAt", "updatedAt", "expiresAt", "activatedAt", "lastUsedAt",
        "revoked", "suspended", "type", "notes", "allowedActivations", "allowedDeactivations", "totalActivations",
        "totalDeactivations", "subscriptionInterval", "subscriptionStartTrigger", "expirationStrategy", "validity",
        "allowedFloatingClients", "leaseDuration", "leasingStrategy", "fingerprintMatchingStrategy", "userId",
        "organizationId", "resellerId", "allowVmActivation", "allowContainerActivation", "userLocked",
        "requireAuthentication", "disableGeoLocation", "user.email", "user.firstName", "user.lastName",
        "organization.name", "reseller.name",
    ]

    /// Reads `FIELD=VALUE`, `FIELD!=VALUE`, `FIELD<VALUE` or `FIELD>VALUE`.
    package static func parse(_ text: String) throws(PullError) -> PullCondition {
        guard let operatorStart = text.firstIndex(where: { "!=<>".contains($0) }) else {
            throw PullError.usage(
                "--where \(text): write FIELD=VALUE, FIELD!=VALUE, FIELD<VALUE or FIELD>VALUE (e.g. organization.name=Acme)"
            )
        }
        let field = String(text[..<operatorStart]).trimmingCharacters(in: .whitespaces)
        let rest = text[operatorStart...]
        guard let comparison = Comparison.allCases.first(where: { rest.hasPrefix($0.rawValue) }) else {
            throw PullError.usage("--where \(text): '!' must be followed by '=' (FIELD!=VALUE)")
        }
        let value = String(rest.dropFirst(comparison.rawValue.count))
        guard !field.isEmpty else { throw PullError.usage("--where \(text): no field before \(comparison.rawValue)") }
        guard namedFields.contains(field) || (field.hasPrefix("metadata.") && field.count > "metadata.".count) else {
            throw PullError.usage(
                "--where \(text): no field \(field); use a license field (expiresAt, allowedActivations, …), user.email, user.firstName, user.lastName, organization.name, reseller.name, revoked, suspended or metadata.KEY"
            )
        }
        let condition = PullCondition(field: field, comparison: comparison, value: value)
        switch field {
        case "revoked", "suspended", "allowVmActivation", "allowContainerActivation", "userLocked",
            "requireAuthentication", "disableGeoLocation":
            guard value == "true" || value == "false" else {
                throw PullError.usage("--where \(text): \(field) is true or false")
            }
            guard comparison == .equal || comparison == .notEqual else {
                throw PullError.usage("--where \(text): \(field) is compared with = or !=")
            }
        case "createdAt", "updatedAt", "expiresAt", "activatedAt", "lastUsedAt":
            guard condition.apiDate != nil else {
                throw PullError.usage(
                    "--where \(text): \(field) compares with a date-time (2027-01-31T00:00:00Z) or a date (2027-01-31, midnight UTC)"
                )
            }
        default: break
        }
        return condition
    }

    /// The value as the API's date-time (a bare date is midnight UTC); nil when it is neither.
    var apiDate: String? {
        if CryptlexTimestamp(value) != nil { return value }
        if value.count == 10, CryptlexTimestamp(value + "T00:00:00Z") != nil { return value + "T00:00:00Z" }
        return nil
    }

    /// The filters this condition is sent as (names resolved to ids by the caller: `ids`).
    func apiFilters(ids: [String]?) -> [QueryItem] {
        let eqOrNe = comparison == .equal ? "eq" : "ne"
        switch (field, comparison) {
        case ("key", .equal), ("key", .notEqual): return [QueryItem("key[\(eqOrNe)]", value)]
        case ("licenseId", .equal), ("licenseId", .notEqual), ("id", .equal), ("id", .notEqual):
            return [QueryItem("id[\(eqOrNe)]", value)]
        case ("user.email", .equal), ("user.email", .notEqual): return [QueryItem("user.email[\(eqOrNe)]", value)]
        case ("revoked", _), ("suspended", _):
            return [QueryItem(field, String((value == "true") == (comparison == .equal)))]
        case ("organization.name", .equal), ("reseller.name", .equal):
            let name = field == "organization.name" ? "organizationId" : "resellerId"
            return ids.map { [QueryItem("\(name)[in]", $0.joined(separator: ","))] } ?? []
        case ("createdAt", _), ("expiresAt", _):
            let op =
                switch comparison {
                case .equal: "eq"
                case .notEqual: "ne"
                case .less: "lt"
                case .greater: "gt"
                }
            return apiDate.map { [QueryItem("\(field)[\(op)]", $0)] } ?? []
        default:
            if field.hasPrefix("metadata."), comparison == .equal {
                return [
                    QueryItem("metadata.key[eq]", String(field.dropFirst("metadata.".count))),
                    QueryItem("metadata.value[eq]", value),
                ]
            }
            return []
        }
    }

    /// Whether a pulled license (as ``PulledLicense`` keeps it) satisfies the condition, as the API
    /// compares: dates as instants (`2027-01-15` is `2027-01-15T00:00:00.0000000Z`), emails
    /// ignoring case.
    package func matches(_ license: [String: JSONAny]) -> Bool {
        let actual = PulledLicense.value(of: field, in: license)
        switch comparison {
        case .equal, .notEqual:
            let same: Bool
            if let actual, let a = Self.instant(actual), let b = Self.instant(.string(apiDate ?? "")) {
                same = a == b
            } else if field == "user.email" {
                same = Self.text(actual).lowercased() == value.lowercased()
            } else {
                same = Self.text(actual) == value
            }
            return comparison == .equal ? same : !same
        case .less, .greater:
            guard let actual, actual != .null else { return false }
            let order: ComparisonResult
            if let a = Self.instant(actual), let b = Self.instant(.string(apiDate ?? "")) {
                order = a < b ? .orderedAscending : (a > b ? .orderedDescending : .orderedSame)
            } else if case .number(let a) = actual, let b = Double(value) {
                order = a < b ? .orderedAscending : (a > b ? .orderedDescending : .orderedSame)
            } else {
                order = Self.text(actual).compare(value)
            }
            return comparison == .less ? order == .orderedAscending : order == .orderedDescending
        }
    }

    private static func instant(_ value: JSONAny) -> Date? {
        if case .string(let text) = value { return CryptlexTimestamp(text)?.date }
        return nil
    }

    /// A value as a cell shows it (nothing: "").
    static func text(_ value: JSONAny?) -> String {
        switch value {
        case nil, .null?: ""
        case .string(let text)?: text
        case .bool(let flag)?: flag ? "true" : "false"
        case .number(let number)?:
            number == number.rounded() && abs(number) < 9e15 ? String(Int64(number)) : String(number)
        case let other?: PulledLicense.json(other)
        }
    }
}

/// Why a pull stopped.
package enum PullError: Error, CustomStringConvertible {
    /// A bad option (exit 64).
    case usage(String)
    /// A request failed (after its retries), or the token was refused: the pull can be resumed.
    case api(String, status: Int?)
    /// The output or the pull's own files could not be written.
    case file(String)
    /// Stopped between pages (Ctrl-C, SIGTERM): resumable.
    case stopped(String)

    package var description: String {
        switch self {
        case .usage(let message), .api(let message, _), .file(let message), .stopped(let message): message
        }
    }
}

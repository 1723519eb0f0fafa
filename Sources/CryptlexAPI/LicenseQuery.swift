/// Filters for `GET /v3/licenses`, written as Cryptlex's deep-object parameters.
package struct LicenseQuery: Sendable, Equatable {
    package var key: String?
    package var productId: String?
    package var userId: String?
    package var metadataKey: String?
    package var metadataValue: String?
    /// Any of these metadata values (`metadata.value[in]`, comma-separated: none may hold a comma).
    package var metadataValues: [String]?
    /// Metadata values that start with this (`metadata.value[sw]`).
    package var metadataValuePrefix: String?
    package var userEmail: String?
    /// Any of these ids (`id[in]`).
    package var ids: [String]?
    /// Any of these keys (`key[in]`; none may hold a comma).
    package var keys: [String]?
    /// Only licenses created at or after this time (an RFC 3339 date-time).
    package var createdAtOrAfter: String?
    package var newestFirst = false
    /// `sort=+createdAt` said outright (the API's default order, asked for where a pager depends on
    /// it; the schema's `sort` pattern wants the sign).
    package var oldestFirst = false
    /// Filters as the API spells them (`organizationId[eq]`, `revoked`, `expiresAt[lt]`, …), after
    /// the typed ones (`licprov pull --where`).
    package var filters: [QueryItem] = []

    package init(
        key: String? = nil, productId: String? = nil, userId: String? = nil, metadataKey: String? = nil,
        metadataValue: String? = nil, metadataValues: [String]? = nil, userEmail: String? = nil,
        createdAtOrAfter: String? = nil, newestFirst: Bool = false
    ) {
        self.metadataValues = metadataValues
        self.key = key
        self.productId = productId
        self.userId = userId
        self.metadataKey = metadataKey
        self.metadataValue = metadataValue
        self.userEmail = userEmail
        self.createdAtOrAfter = createdAtOrAfter
        self.newestFirst = newestFirst
    }

    /// The query items, in a stable order.
    func items(page: Int, limit: Int) -> [(String, String)] {
        var items: [(String, String)] = []
        if let key { items.append(("key[eq]", key)) }
        if let keys { items.append(("key[in]", keys.joined(separator: ","))) }
        if let ids { items.append(("id[in]", ids.joined(separator: ","))) }
        if let productId { items.append(("productId[eq]", productId)) }
        if let userId { items.append(("userId", userId)) }
        if let metadataKey { items.append(("metadata.key[eq]", metadataKey)) }
        if let metadataValue { items.append(("metadata.value[eq]", metadataValue)) }
        if let metadataValues { items.append(("metadata.value[in]", metadataValues.joined(separator: ","))) }
        if let metadataValuePrefix { items.append(("metadata.value[sw]", metadataValuePrefix)) }
        if let userEmail { items.append(("user.email[eq]", userEmail)) }
        if let createdAtOrAfter { items.append(("createdAt[gte]", createdAtOrAfter)) }
        for filter in filters { items.append((filter.name, filter.value)) }
        if newestFirst {
            items.append(("sort", "-createdAt"))
        } else if oldestFirst {
            items.append(("sort", "+createdAt"))
        }
        items.append(("page", String(page)))
        items.append(("limit", String(limit)))
        return items
    }
}

/// One query parameter, named as the API names it.
package struct QueryItem: Sendable, Hashable {
    package var name: String
    package var value: String

    package init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

/// How long a value is once percent-encoded in a query (for keeping URLs short).
package enum QueryLength {
    package static func escaped(_ text: String) -> Int { QueryEncoding.escape(text).utf8.count }
}

/// Percent-encoding for query names and values: everything but RFC 3986's unreserved characters.
enum QueryEncoding {
    static func encode(_ items: [(String, String)]) -> String {
        items.map { "\(escape($0.0))=\(escape($0.1))" }.joined(separator: "&")
    }

    static func escape(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."),
                UInt8(ascii: "_"), UInt8(ascii: "~"):
                result.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = Array("0123456789ABCDEF".utf8)
                result += "%" + String(UnicodeScalar(hex[Int(byte >> 4)])) + String(UnicodeScalar(hex[Int(byte & 15)]))
            }
        }
        return result
    }
}

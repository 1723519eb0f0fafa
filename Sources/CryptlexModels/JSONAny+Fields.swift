import Foundation

/// A license's fields by name (`[String: JSONAny]`): how the journal keeps a change's before-state
/// and how a plan compares a row with a license — JSON with sorted keys, compared as the API means
/// them.
package enum LicenseFields {
    /// Reads fields kept as JSON text (nil: not an object of fields).
    package static func decode(_ text: String) -> [String: JSONAny]? {
        decode(Array(text.utf8))
    }

    /// Reads fields kept as JSON bytes (empty: no fields).
    package static func decode(_ bytes: [UInt8]) -> [String: JSONAny]? {
        guard !bytes.isEmpty else { return [:] }
        return try? JSONDecoder().decode([String: JSONAny].self, from: Data(bytes))
    }

    /// The fields as JSON text, keys sorted.
    package static func encode(_ fields: [String: JSONAny]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(fields)) ?? Data("{}".utf8), as: UTF8.self)
    }

    /// Equal as JSON, with date-times compared as instants (`…00Z` and `…00.0000000Z` agree) and
    /// metadata lists by their entries' keys and values, in any order (the server adds an `id` and
    /// `viewPermissions` to each entry it keeps).
    package static func same(_ a: JSONAny, _ b: JSONAny) -> Bool {
        if a == b { return true }
        if case .array(let x) = a, case .array(let y) = b, x.count == y.count, let first = metadataPairs(x),
            let second = metadataPairs(y)
        {
            // In any order: an entry's place in the list means nothing to the API.
            return first.sorted { $0.lexicographicallyPrecedes($1) }
                == second.sorted { $0.lexicographicallyPrecedes($1) }
        }
        if case .string(let x) = a, case .string(let y) = b, let first = CryptlexTimestamp(x)?.date,
            let second = CryptlexTimestamp(y)?.date
        {
            return abs(first.timeIntervalSince(second)) < 0.001
        }
        return false
    }

    /// A metadata list as (key, value) pairs, in order; nil when `entries` is not one.
    package static func metadataPairs(_ entries: [JSONAny]) -> [[String]]? {
        var pairs: [[String]] = []
        for entry in entries {
            guard case .object(let fields) = entry, case .string(let key)? = fields["key"],
                case .string(let value)? = fields["value"]
            else { return nil }
            pairs.append([key, value])
        }
        return pairs
    }
}

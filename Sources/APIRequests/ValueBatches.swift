import CryptlexAPI

/// How values are grouped for list filters with `in` (`metadata.value[in]`, `id[in]`, `key[in]`,
/// `email[in]`): the one place that decides, for every batched lookup of a run.
///
/// A batch holds at most ``valuesPerRequest`` values and ``maxQueryCharacters`` characters of them
/// as they go on the wire (each percent-escaped, with its escaped comma, `%2C`), well under the
/// 8 KB a URL may have. A value with a comma (or an empty one) cannot be listed with `in` and is
/// looked up alone. Repeated values are listed once.
enum ValueBatches {
    static let valuesPerRequest = 100
    static let maxQueryCharacters = 6_000

    /// `values` in batches (in their order), and those to look up alone.
    static func split(_ values: some Sequence<String>) -> (batches: [[String]], alone: [String]) {
        var seen = Set<String>()
        var batches: [[String]] = []
        var alone: [String] = []
        var length = 0
        for value in values where seen.insert(value).inserted {
            if value.isEmpty || value.contains(",") {
                alone.append(value)
                continue
            }
            let cost = QueryLength.escaped(value) + 3
            if batches.isEmpty || batches[batches.count - 1].count == valuesPerRequest
                || length + cost > maxQueryCharacters
            {
                batches.append([])
                length = 0
            }
            batches[batches.count - 1].append(value)
            length += cost
        }
        return (batches, alone)
    }
}

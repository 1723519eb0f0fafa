import CryptlexAPI
import CryptlexModels

/// The one lookup by values a run has — licenses by id, key or metadata value, users by email,
/// organizations and resellers by name — and the one place the list operators are spelled with
/// their fallback: values in ``ValueBatches`` with `in`, every page; a value `in` cannot carry
/// (a comma) and, once the API refused `in` this run, every value after it, alone.
extension RunRequests {
    /// How to list what values name, together (``listByValues(_:filter:count:_:)``).
    package struct ByValues<Element: Sendable> {
        /// One page of the elements a batch of values names (an `in` filter).
        package var batch: (_ values: [String], _ page: Int) async throws(APIError) -> CryptlexClient.Answer<[Element]>
        /// How one value is read alone; nil leaves it to the caller (`found` with nil).
        package var single: ((String) async -> Result<[Element], ReadFailure>)?
        /// For a batch: whether what was found is all it can find (no next page needed).
        package var complete: (_ values: [String], _ found: [Element]) -> Bool = { _, _ in false }

        package init(
            batch:
                @escaping (_ values: [String], _ page: Int) async throws(APIError) -> CryptlexClient.Answer<[Element]>,
            single: ((String) async -> Result<[Element], ReadFailure>)?,
            complete: @escaping (_ values: [String], _ found: [Element]) -> Bool = { _, _ in false }
        ) {
            self.batch = batch
            self.single = single
            self.complete = complete
        }
    }

    /// Looks `values` up: each group of values with what its requests found (nil: a request
    /// failed, or the value was left to the caller — those values are not settled). `filter` names
    /// the field for the log; `count` counts each request.
    package func listByValues<Element: Sendable>(
        _ values: [String], filter: String, count: @escaping (inout RunCounts) -> Void,
        _ lookup: ByValues<Element>
    ) async -> [(values: [String], found: [Element]?)] {
        var results: [(values: [String], found: [Element]?)] = []
        var (chunks, alone) = ValueBatches.split(values)
        for (index, chunk) in chunks.enumerated() {
            guard !operators.refuses(.in) else {
                alone += chunks[index...].joined()
                break
            }
            switch await readAllPages(
                count: count, complete: { lookup.complete(chunk, $0) },
                { (page: Int) async throws(APIError) in try await lookup.batch(chunk, page) })
            {
            case .success(let elements):
                results.append((chunk, elements))
            case .failure(let failure) where failure.status == 400:
                operators.refuse(.in, filter: filter, reason: failure.reason)
                alone += chunks[index...].joined()
            case .failure:
                results.append((chunk, nil))
            }
            if operators.refuses(.in) { break }
        }
        for value in alone {
            results.append(([value], try? await lookup.single?(value).get()))
        }
        return results
    }

    /// How a license is read alone: a list with `eq`, or a read by id (a 404: none).
    package func licenses(alone query: LicenseQuery?, id: String?, client: CryptlexClient) async -> Result<
        [LicenseSnapshot], ReadFailure
    > {
        if let id {
            switch await send(
                count: { counts, _ in counts.lookups += 1 },
                { () async throws(APIError) in try await client.licenseSnapshot(id: id) })
            {
            case .answered(let answer): return .success([answer.value])
            case .failed(let error, _, _) where error.status == 404: return .success([])
            case .failed(let error, _, _): return .failure(ReadFailure(reason: error.description, status: error.status))
            case .notSent: return .failure(ReadFailure(reason: "the run stopped before the lookup"))
            }
        }
        guard let query else { return .success([]) }
        return await readAllPages(
            count: { $0.lookups += 1 },
            { (page: Int) async throws(APIError) in
                try await client.findLicenseSnapshots(query, page: page, limit: 100)
            })
    }

    /// Licenses by values: `batched` is the query for a batch (an `in` filter), `query` or `id`
    /// how one value is read alone.
    package func licenseLookup(
        client: CryptlexClient, batched: @escaping ([String]) -> LicenseQuery, query: ((String) -> LicenseQuery)? = nil,
        byID: Bool = false
    ) -> ByValues<LicenseSnapshot> {
        ByValues(
            batch: { (values: [String], page: Int) async throws(APIError) in
                try await client.findLicenseSnapshots(batched(values), page: page, limit: 100)
            }, single: { value in await licenses(alone: query?(value), id: byID ? value : nil, client: client) })
    }

    /// The licenses with these ids, 100 a request; nil when a read failed.
    package func licenses(ids: [String], client: CryptlexClient) async -> [LicenseSnapshot]? {
        await collect(
            ids, filter: "id",
            licenseLookup(
                client: client,
                batched: { ids in
                    var query = LicenseQuery()
                    query.ids = ids
                    return query
                }, byID: true))
    }

    /// The licenses whose metadata entry `key` holds one of `values`, 100 values a request; nil
    /// when a read failed. (A list filters on key and value separately: the caller checks that the
    /// value it wants is under `key`.)
    package func licenses(metadataKey key: String, values: [String], client: CryptlexClient) async -> [LicenseSnapshot]?
    {
        await collect(
            values, filter: "metadata.value",
            licenseLookup(
                client: client, batched: { LicenseQuery(metadataKey: key, metadataValues: $0) },
                query: { LicenseQuery(metadataKey: key, metadataValue: $0) }))
    }

    /// Everything a license lookup finds, or nil when a request failed.
    private func collect(_ values: [String], filter: String, _ lookup: ByValues<LicenseSnapshot>) async
        -> [LicenseSnapshot]?
    {
        var all: [LicenseSnapshot] = []
        for (_, snapshots) in await listByValues(values, filter: filter, count: { $0.lookups += 1 }, lookup) {
            guard let snapshots else { return nil }
            all += snapshots
        }
        return all
    }
}

import CryptlexAPI
import CryptlexModels
import Logging
import Synchronization

/// The list filter operators the API refused this run. A 400 to a query that used `in` (or `sw`)
/// switches every lookup that would use it to one value a request (`eq`) for the rest of the run,
/// said once in the log: a run never fails because a server lacks an operator, it only sends more
/// requests. Shared by a run's lookups (customers, reconciliation, change targets) and by audit.
final class ListOperators: Sendable {
    enum Operator: String, Sendable {
        case `in`
        case startsWith = "sw"
    }

    private let refused = Mutex<Set<Operator>>([])
    private let logger: Logger

    init(logger: Logger) {
        self.logger = logger
    }

    func refuses(_ op: Operator) -> Bool {
        refused.withLock { $0.contains(op) }
    }

    /// Notes that the API answered 400 to a query with `op` on `filter`; logs it the first time.
    func refuse(_ op: Operator, filter: String, reason: String) {
        let first = refused.withLock { $0.insert(op).inserted }
        guard first else { return }
        logger.warning("the API refused the list filter \(filter)[\(op.rawValue)] (\(reason)); looking up one value a request instead for the rest of the run")
    }
}

extension RunRequests {
    /// How one value is looked up alone: a list with `eq`, or a read by id.
    enum SingleLookup: Sendable {
        case query(LicenseQuery)
        case id(String)
    }

    /// Lists the licenses `values` name, together: in ``ValueBatches`` with `in` (`batched`), every page; alone (`single`) a value with a comma, and every
    /// value once the API refused `in` this run. `found` is told each group of values with what its
    /// requests found (nil: a request failed, those values are not settled). `filter` names the
    /// field for the log.
    func listByValues(_ values: [String], client: CryptlexClient, filter: String, batched: ([String]) -> LicenseQuery, single: (String) -> SingleLookup,
                      found: ([String], [LicenseSnapshot]?) async -> Void) async {
        var (chunks, alone) = ValueBatches.split(values)
        for (index, chunk) in chunks.enumerated() {
            guard !operators.refuses(.in) else {
                alone += chunks[index...].joined()
                break
            }
            let query = batched(chunk)
            switch await readAllPages(count: { $0.lookups += 1 }, { (page: Int) async throws(APIError) in
                try await client.findLicenseSnapshots(query, page: page, limit: 100)
            }) {
            case .success(let snapshots):
                await found(chunk, snapshots)
            case .failure(let failure) where failure.status == 400:
                operators.refuse(.in, filter: filter, reason: failure.reason)
                alone += chunks[index...].joined()
            case .failure:
                await found(chunk, nil)
            }
            if operators.refuses(.in) { break }
        }
        for value in alone {
            switch single(value) {
            case .query(let query):
                let result = await readAllPages(count: { $0.lookups += 1 }, { (page: Int) async throws(APIError) in
                    try await client.findLicenseSnapshots(query, page: page, limit: 100)
                })
                await found([value], try? result.get())
            case .id(let id):
                switch await send(count: { counts, _ in counts.lookups += 1 }, { () async throws(APIError) in try await client.licenseSnapshot(id: id) }) {
                case .answered(let answer): await found([value], [answer.value])
                case .failed(let error, _, _) where error.status == 404: await found([value], [])
                default: await found([value], nil)
                }
            }
        }
    }

    /// The licenses with these ids, 100 a request; nil when a read failed.
    func licenses(ids: [String], client: CryptlexClient) async -> [LicenseSnapshot]? {
        await collect(ids, client: client, filter: "id", batched: { ids in
            var query = LicenseQuery()
            query.ids = ids
            return query
        }, single: { .id($0) })
    }

    /// The licenses whose metadata entry `key` holds one of `values`, 100 values a request; nil
    /// when a read failed. (A list filters on key and value separately: the caller checks that the
    /// value it wants is under `key`.)
    func licenses(metadataKey key: String, values: [String], client: CryptlexClient) async -> [LicenseSnapshot]? {
        await collect(values, client: client, filter: "metadata.value", batched: { LicenseQuery(metadataKey: key, metadataValues: $0) },
                      single: { .query(LicenseQuery(metadataKey: key, metadataValue: $0)) })
    }

    /// Everything ``listByValues(_:client:filter:batched:single:found:)`` finds, or nil when a request failed.
    private func collect(_ values: [String], client: CryptlexClient, filter: String, batched: ([String]) -> LicenseQuery,
                         single: (String) -> SingleLookup) async -> [LicenseSnapshot]? {
        var all: [LicenseSnapshot] = []
        var failed = false
        await listByValues(values, client: client, filter: filter, batched: batched, single: single) { _, snapshots in
            guard let snapshots else { failed = true; return }
            all += snapshots
        }
        return failed ? nil : all
    }
}

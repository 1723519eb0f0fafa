import APIRequests
import CryptlexAPI
import CryptlexModels
import Foundation
import Ingestion
import Journal
import Synchronization

/// Finding change rows' targets together.
extension LicenseTarget {
    /// Whether a license is this target.
    func matches(_ license: License) -> Bool {
        switch self {
        case .id(let id): license.id == id
        case .key(let key): license.key == key
        case .metadata(let name, let value): license.metadataValue(forKey: name) == value
        }
    }
}

/// Finds the licenses of change rows before anything is sent, and their fields as they are:
/// one `GET /v3/licenses?id[in]=…` (or `key[in]`, or `metadata.key[eq]=NAME&metadata.value[in]=…`)
/// per 100 targets, not one GET per license. A target with a comma in it is read alone (`eq`, or
/// by id), and so is every target once the API refused `in` this run.
enum ChangeTargets {
    enum Resolution: Sendable {
        case found(LicenseSnapshot)
        case several([LicenseSnapshot])
        case absent
        case unavailable(String)
    }

    /// What ``prefetch(_:journal:requests:client:)`` found, by entry, shared by the run's workers.
    final class Prefetched: Sendable {
        private let found = Mutex<[Int64: Resolution]>([:])

        func add(_ more: [Int64: Resolution]) {
            guard !more.isEmpty else { return }
            found.withLock { $0.merge(more) { _, new in new } }
        }

        subscript(entry: Int64) -> Resolution? { found.withLock { $0[entry] } }
    }

    static func prefetch(
        _ entryIDs: [Int64], journal: SQLiteJournal, requests: RunRequests,
        client: CryptlexClient
    ) async throws(JournalError) -> [Int64: Resolution] {
        var targets: [(entry: Int64, target: LicenseTarget)] = []
        for start in stride(from: 0, to: entryIDs.count, by: 500) {
            let chunk = Array(entryIDs[start..<min(start + 500, entryIDs.count)])
            for entry in try journal.entries(ids: chunk).values where entry.beforeState == nil && !entry.state.isSettled
            {
                if let target = entry.target { targets.append((entry.id, target)) }
            }
        }
        // Group by what a query can list together.
        var groups: [String: [(entry: Int64, target: LicenseTarget, value: String)]] = [:]
        for (entry, target) in targets {
            switch target {
            case .id(let id): groups["id", default: []].append((entry, target, id))
            case .key(let key): groups["key", default: []].append((entry, target, key))
            case .metadata(let name, let value): groups["metadata:" + name, default: []].append((entry, target, value))
            }
        }
        var resolved: [Int64: Resolution] = [:]
        for (group, members) in groups {
            let metadataKey = group.hasPrefix("metadata:") ? String(group.dropFirst("metadata:".count)) : nil
            let lookup = requests.licenseLookup(
                client: client,
                batched: { values in
                    var query = LicenseQuery()
                    if group == "id" {
                        query.ids = values
                    } else if group == "key" {
                        query.keys = values
                    } else {
                        query.metadataKey = metadataKey
                        query.metadataValues = values
                    }
                    return query
                },
                query: { value in
                    group == "key"
                        ? LicenseQuery(key: value) : LicenseQuery(metadataKey: metadataKey, metadataValue: value)
                },
                byID: group == "id")
            for (values, snapshots) in await requests.listByValues(
                members.map(\.value), filter: metadataKey == nil ? group : "metadata.value",
                count: { $0.lookups += 1 }, lookup)
            {
                let asked = Set(values)
                for member in members where asked.contains(member.value) {
                    guard let snapshots else {
                        resolved[member.entry] = .unavailable("the lookup of the targets failed")
                        continue
                    }
                    resolved[member.entry] = resolution(snapshots.filter { member.target.matches($0.license) })
                }
            }
        }
        return resolved
    }

    /// A license read by id (`GET /v3/licenses/{id}`, which does not lag behind writes as a search
    /// may). A 404 is `gone`: the API module classes it permanent, so it is not retried.
    enum ByID: Sendable {
        case found(LicenseSnapshot)
        case gone
        case unavailable(String)
    }

    static func read(id: String, requests: RunRequests, client: CryptlexClient) async -> ByID {
        switch await requests.send(
            count: { counts, _ in counts.lookups += 1 },
            { () async throws(APIError) in try await client.licenseSnapshot(id: id) })
        {
        case .answered(let answer): .found(answer.value)
        case .failed(let error, _, _) where error.status == 404: .gone
        case .failed(let error, _, _): .unavailable(error.description)
        case .notSent: .unavailable("the run stopped before the read")
        }
    }

    /// One target, read alone (a value with a comma, or one the batch did not settle): an id read
    /// by id, a key or a metadata value listed.
    static func resolve(_ target: LicenseTarget, requests: RunRequests, client: CryptlexClient) async -> Resolution {
        var query = LicenseQuery()
        var id: String?
        switch target {
        case .id(let value): id = value
        case .key(let key): query.key = key
        case .metadata(let name, let value):
            query.metadataKey = name
            query.metadataValue = value
        }
        switch await requests.licenses(alone: query, id: id, client: client) {
        case .success(let snapshots): return resolution(snapshots.filter { target.matches($0.license) })
        case .failure(let failure): return .unavailable(id == nil ? "the lookup of the target failed" : failure.reason)
        }
    }

    private static func resolution(_ matches: [LicenseSnapshot]) -> Resolution {
        switch matches.count {
        case 0: .absent
        case 1: .found(matches[0])
        default: .several(matches)
        }
    }
}

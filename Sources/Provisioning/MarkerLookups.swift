import APIRequests
import CryptlexAPI
import CryptlexModels
import Foundation
import Scheduling

/// The lookups a run makes for its ambiguous sends, together: a burst of lost answers costs one
/// `GET /v3/licenses?metadata.value[in]=…` (100 markers a request), not one GET each.
///
/// A worker asks for its marker no earlier than `reconcileDelay` after the ambiguous answer (the
/// lookup-lag rule). When the earliest waiting marker is due, one request goes for it and for
/// every other marker waiting (due ones first):
///
/// - a marker found on one license, or on several, is settled whether it was due or not: presence
///   is proof at any time;
/// - a marker not found is settled *absent* only if it was due when the request went; otherwise it
///   waits for its own time, so a miss is never trusted before the search has caught up;
/// - a failed request leaves every due marker `unavailable` (the entry stays in flight for the next
///   run) and the others waiting.
///
/// Requests go at least ``gather`` apart, so markers that fall due one after another (answers lost
/// for a few seconds) share requests too. A marker with a comma cannot be listed safely and is not
/// given to this type (the worker looks it up alone with `eq`).
actor MarkerLookups {
    typealias Lookup = LicenseWorker.Lookup

    private struct Waiting {
        var due: RunClock.Instant
        var waiters: [(id: UInt64, continuation: CheckedContinuation<Lookup, Never>)]
    }

    private let requests: RunRequests
    private let client: CryptlexClient
    private let markerKey: String
    /// The least time between two requests.
    let gather: Duration
    private var waiting: [String: Waiting] = [:]
    private var flusher: Task<Void, Never>?
    private var lastRequest: RunClock.Instant?
    private var nextID: UInt64 = 0

    init(requests: RunRequests, client: CryptlexClient, markerKey: String, gather: Duration = .seconds(1)) {
        self.requests = requests
        self.client = client
        self.markerKey = markerKey
        self.gather = gather
    }

    /// What the account holds for `marker`, looked up no earlier than `delay` from now.
    /// A cancelled wait answers `unavailable`.
    func lookUp(_ marker: String, after delay: Duration) async -> Lookup {
        nextID += 1
        let id = nextID
        let due = requests.clock.now.advanced(by: delay)
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Lookup, Never>) in
                var entry = waiting[marker] ?? Waiting(due: due, waiters: [])
                entry.due = max(entry.due, due)
                entry.waiters.append((id, continuation))
                waiting[marker] = entry
                if flusher == nil { flusher = Task.inheriting { await self.flush() } }
            }
        } onCancel: {
            Task.inheriting { await self.cancel(marker, id) }
        }
    }

    private func flush() async {
        while let earliest = waiting.values.map(\.due).min() {
            let start = max(earliest, lastRequest.map { $0.advanced(by: gather) } ?? earliest)
            if start > requests.clock.now { try? await requests.clock.sleep(until: start) }
            let sentAt = requests.clock.now
            lastRequest = sentAt
            // Earliest due first; of those due together, the first asked for first (not the
            // dictionary's order, which is the random markers': a simulation's seed replays it).
            let markers = waiting.sorted {
                ($0.value.due, $0.value.waiters.first?.id ?? 0) < ($1.value.due, $1.value.waiters.first?.id ?? 0)
            }.prefix(BatchedLookups.markersPerRequest).map(\.key)
            guard !markers.isEmpty else { continue }
            let licenses = await requests.licenses(metadataKey: markerKey, values: markers, client: client)?.map(
                \.license)
            for marker in markers {
                guard let entry = waiting[marker] else { continue }  // cancelled meanwhile
                let isDue = entry.due <= sentAt
                guard let licenses else {
                    if isDue { resolve(marker, .unavailable("the batched lookup failed")) }
                    continue
                }
                let found = licenses.filter { $0.metadataValue(forKey: markerKey) == marker }
                switch found.count {
                case 0: if isDue { resolve(marker, .absent) }
                case 1: resolve(marker, .found(found[0]))
                default: resolve(marker, .several(found))
                }
            }
        }
        flusher = nil
    }

    private func resolve(_ marker: String, _ lookup: Lookup) {
        for waiter in waiting.removeValue(forKey: marker)?.waiters ?? [] {
            waiter.continuation.resume(returning: lookup)
        }
    }

    private func cancel(_ marker: String, _ id: UInt64) {
        guard var entry = waiting[marker], let index = entry.waiters.firstIndex(where: { $0.id == id }) else { return }
        let waiter = entry.waiters.remove(at: index)
        if entry.waiters.isEmpty { waiting.removeValue(forKey: marker) } else { waiting[marker] = entry }
        waiter.continuation.resume(returning: .unavailable("cancelled"))
    }
}

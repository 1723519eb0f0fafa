import APIRequests
import CryptlexAPI
import CryptlexModels
import Foundation
import Journal
import Scheduling

/// Looks up, together, the licenses a run must find out about before it sends anything: entries
/// an earlier run left in flight (killed mid-send) or that ever had an ambiguous answer.
///
/// One `GET /v3/licenses?metadata.key[eq]=MARKER_KEY&metadata.value[in]=m1,m2,…` per 100 markers
/// (about 3.8 KB of URL; a page of 100, and the next page when a page comes back full, since one
/// marker can be on two licenses), instead of one GET each: a run killed with 32 licenses in
/// flight settles them with one lookup (one a marker, with `eq`, on a server that refuses `in`).
/// The lookup-lag rule holds: the batch goes `reconcileDelay` after the run began looking — not
/// after the entries last changed in the journal. The journal knows when an entry was marked in
/// flight, not when its create went out: the work feed marks a chunk ahead of the workers, and a
/// create may leave seconds later (behind its customer's creation, a 429's pause), so a delay
/// counted from the mark could end before the search shows what the create made (the simulation
/// found a duplicate so). A marker that cannot be listed safely (a comma in it) is left to the worker's
/// own lookup, and so is every marker of a batch whose request fails.
enum BatchedLookups {
    /// What the batch found: each looked-up marker with the licenses that carry it (empty: absent).
    typealias Found = [String: [License]]

    static let markersPerRequest = 100

    static func prefetch(
        _ items: [WorkItem], journal: SQLiteJournal, requests: RunRequests, client: CryptlexClient,
        markerKey: String?, reconcileDelay: Duration
    ) async throws(JournalError) -> Found {
        guard let markerKey, !items.isEmpty else { return [:] }
        // In the journal's order: the same entries make the same requests (a dictionary's order
        // differs from one instance to the next).
        let entries = try journal.entries(ids: items.map(\.entryID)).values.filter {
            !$0.marker.contains(",") && !$0.marker.isEmpty
        }.sorted { $0.id < $1.id }
        guard !entries.isEmpty else { return [:] }
        // Every send of these entries was before this run began: the whole delay from now is past
        // the search's lag for each of them.
        if reconcileDelay > .zero {
            do { try await requests.clock.sleep(for: reconcileDelay) } catch { return [:] }
        }
        var found: Found = [:]
        let markers = entries.map(\.marker)
        for start in stride(from: 0, to: markers.count, by: markersPerRequest) {
            let chunk = Array(markers[start..<min(start + markersPerRequest, markers.count)])
            guard
                let licenses = await requests.licenses(metadataKey: markerKey, values: chunk, client: client)?.map(
                    \.license)
            else { continue }
            for marker in chunk { found[marker] = [] }
            for license in licenses {
                guard let marker = license.metadataValue(forKey: markerKey), found[marker] != nil else { continue }
                found[marker]?.append(license)
            }
        }
        return found
    }
}

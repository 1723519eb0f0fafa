import APIRequests
import CryptlexAPI
import CryptlexModels
import Foundation
import Ingestion
import Journal
import Logging
import Provisioning
import Scheduling

/// `licprov audit`: holds the account against the journal, read-only.
///
/// The licenses carrying this journal's markers are listed — `metadata.value[sw]=lp-<journal id>-`,
/// 100 a page, for markers written since journal v6; `metadata.value[in]`, 100 markers a request,
/// for older ones — and each create the journal recorded is compared with what the account holds.
/// Licenses the journal changed but did not create are read by id (`id[in]`, 100 a request).
/// About one request per 100 licenses; one per license only on a server that refuses `in` (and
/// `sw`: then the journal's markers are listed by value, and unknown licenses cannot be found).
///
/// | finding | meaning |
/// |---|---|
/// | `ok` | as the journal says |
/// | `duplicate` | two or more licenses carry the marker of one entry |
/// | `missing` | the journal says created; the account has no license with its marker (deleted by hand?) |
/// | `changed` | a field licprov set, or changed with an action, differs now |
/// | `unknown` | a license with this journal's marker prefix that the journal never recorded |
/// | `unsettled` | the journal has not settled the entry (in flight, pending) but the account holds it: run licprov again |
package struct JournalAudit: Sendable {
    package enum Kind: String, Sendable, CaseIterable {
        case ok, duplicate, missing, changed, unknown, unsettled
    }

    package struct Finding: Sendable, Equatable {
        package var kind: Kind
        package var rowID: String
        package var unit: Int
        package var sourceLine: Int?
        package var marker: String
        package var licenseIDs: [String]
        package var detail: String

        package static let header = ["finding", "row_id", "unit", "source_line", "marker", "license_ids", "detail"]
        package var cells: [String] {
            [
                kind.rawValue, rowID, String(unit), sourceLine.map(String.init) ?? "", marker,
                licenseIDs.joined(separator: " "), detail,
            ]
        }
    }

    package struct Report: Sendable {
        package var findings: [Finding] = []
        /// List and read requests sent.
        package var requests = 0
        package var counts: [Kind: Int] { Dictionary(grouping: findings, by: \.kind).mapValues(\.count) }
        package var isClean: Bool { findings.allSatisfy { $0.kind == .ok } }
        /// What the audit could not look at, and why (a list filter the API refused).
        package var notes: [String] = []
        /// The duplicates' extra licenses: every license of a `duplicate` but the one the journal recorded.
        package var extraLicenses: [(rowID: String, licenseID: String)] {
            findings.filter { $0.kind == .duplicate }.flatMap { finding in
                finding.licenseIDs.dropFirst().map { (finding.rowID, $0) }
            }
        }

        /// `audit --fix-duplicates`: a delete of each extra license, as typed rows (ids in
        /// ``fixIDColumn``, derived from the license: the same fix planned again is the same rows).
        package var duplicateDeletions: [OrderRow] {
            extraLicenses.enumerated().map { index, extra in
                OrderRow.derivedChange(
                    rowID: "duplicate-\(extra.licenseID)", line: index + 1, licenseID: extra.licenseID, action: .delete)
            }
        }
        package static let fixIDColumn = "fix_id"
    }

    let journal: SQLiteJournal
    let client: CryptlexClient
    let requests: RunRequests
    let markerKey: String

    /// Audits the journal at `journalPath` (which must exist) against the account.
    package static func run(
        journalPath: String, client: CryptlexClient, configuration: RunConfiguration,
        stop: StopSignal = StopSignal()
    ) async throws -> Report {
        let journal = try JournalReport.open(journalPath)
        let counters = RunCounters()
        let audit = JournalAudit(
            journal: journal, client: client, requests: RunRequests.make(configuration, stop: stop, counters: counters),
            markerKey: configuration.markerKey ?? RunConfiguration.defaultMarkerKey)
        var report = try await audit.compare()
        report.requests = counters.snapshot.lookups
        return report
    }

    /// A list or read failed: the audit cannot say what the account holds.
    package struct Unavailable: Error, LocalizedError, Sendable {
        package var reason: String
        package var errorDescription: String? { "the audit could not read the account: \(reason)" }
    }

    func compare() async throws -> Report {
        let prefix = try journal.markerPrefix()
        var creates: [JournalEntry] = []
        var changes: [String: [JournalEntry]] = [:]
        try journal.forEachEntry { entry in
            if entry.action == .create {
                creates.append(entry)
            } else if entry.state.isSettled, let id = entry.licenseID {
                changes[id, default: []].append(entry)
            }
        }
        // The account's licenses with this journal's markers: by prefix, and the older markers (or
        // all of them, when the API refuses `sw`) 100 a request.
        var report = Report()
        let directory = try journal.directoryIDs()
        let users = try journal.linkedUserIDs()
        var byMarker: [String: [LicenseSnapshot]] = [:]
        var byValue = creates.map(\.marker).filter { !$0.hasPrefix(prefix) && !$0.isEmpty }
        let prefixed = creates.map(\.marker).filter { $0.hasPrefix(prefix) }
        if !prefixed.isEmpty {
            var query = LicenseQuery(metadataKey: markerKey)
            query.metadataValuePrefix = prefix
            switch await requests.readAllPages(
                count: { $0.lookups += 1 },
                { (page: Int) async throws(APIError) in
                    try await client.findLicenseSnapshots(query, page: page, limit: 100)
                })
            {
            case .success(let snapshots):
                for snapshot in snapshots {
                    if let marker = snapshot.license.metadataValue(forKey: markerKey) {
                        byMarker[marker, default: []].append(snapshot)
                    }
                }
            case .failure(let failure) where failure.status == 400:
                requests.operators.refuse(.startsWith, filter: "metadata.value", reason: failure.reason)
                report.notes.append(
                    "the API refused metadata.value[sw]: the journal's markers were looked up by value, so licenses with its "
                        + "marker prefix that it never recorded (unknown) cannot be found")
                byValue += prefixed
            case .failure(let failure):
                throw Unavailable(reason: failure.reason)
            }
        }
        var failed: String?
        let lookup = requests.licenseLookup(
            client: client, batched: { LicenseQuery(metadataKey: markerKey, metadataValues: $0) },
            query: { LicenseQuery(metadataKey: markerKey, metadataValue: $0) })
        for (values, snapshots) in await requests.listByValues(
            byValue, filter: "metadata.value", count: { $0.lookups += 1 }, lookup)
        {
            guard let snapshots else {
                failed = "a list request failed (see the log)"
                break
            }
            let asked = Set(values)
            for snapshot in snapshots {
                if let marker = snapshot.license.metadataValue(forKey: markerKey), asked.contains(marker) {
                    byMarker[marker, default: []].append(snapshot)
                }
            }
        }
        if let failed { throw Unavailable(reason: failed) }

        var recorded = Set<String>()
        var createdIDs = Set<String>()
        for entry in creates {
            recorded.insert(entry.marker)
            let found = byMarker[entry.marker] ?? []
            func finding(_ kind: Kind, _ ids: [String], _ detail: String) -> Finding {
                Finding(
                    kind: kind, rowID: entry.rowID, unit: entry.unit, sourceLine: entry.sourceLine,
                    marker: entry.marker, licenseIDs: ids, detail: detail)
            }
            guard entry.state.isSettled else {
                if !found.isEmpty {
                    report.findings.append(
                        finding(
                            .unsettled, found.map(\.license.id),
                            "the journal has it \(entry.state.rawValue), the account holds \(found.count); run licprov again to settle it"
                        ))
                }
                continue
            }
            if let id = entry.licenseID { createdIDs.insert(id) }
            let applied = entry.licenseID.flatMap { changes[$0] } ?? []
            if let deletion = applied.first(where: { $0.action == .delete }) {
                report.findings.append(
                    found.isEmpty
                        ? finding(.ok, [], "deleted by row \(deletion.rowID)")
                        : finding(
                            .changed, found.map(\.license.id),
                            "row \(deletion.rowID) deleted it, yet the account holds it"))
                continue
            }
            switch found.count {
            case 0:
                report.findings.append(
                    finding(
                        .missing, entry.licenseID.map { [$0] } ?? [],
                        "the journal recorded license \(entry.licenseID ?? "?") as \(entry.state.rawValue); the account has no license with its marker"
                    ))
            case 1:
                var expected = Self.expected(created: entry.operation, changes: applied, users: users)
                // The organization and reseller the license was linked to, as resolved: a link moved since is a change.
                if let id = entry.organizationRef.flatMap({ directory[$0] }) {
                    expected["organizationId"] = .string(id)
                }
                if let id = entry.resellerRef.flatMap({ directory[$0] }) { expected["resellerId"] = .string(id) }
                let differences = Self.differences(expected: expected, actual: found[0])
                report.findings.append(
                    differences.isEmpty
                        ? finding(.ok, [found[0].license.id], "")
                        : finding(.changed, [found[0].license.id], differences.joined(separator: "; ")))
            default:
                // The license the journal recorded first: the others are the extras.
                let ids = found.map(\.license.id).sorted {
                    ($0 == entry.licenseID ? 0 : 1, $0) < ($1 == entry.licenseID ? 0 : 1, $1)
                }
                report.findings.append(
                    finding(
                        .duplicate, ids,
                        "\(found.count) licenses carry the marker; the journal recorded \(entry.licenseID ?? "?")"))
            }
        }
        for (marker, snapshots) in byMarker where marker.hasPrefix(prefix) && !recorded.contains(marker) {
            report.findings.append(
                Finding(
                    kind: .unknown, rowID: "", unit: 0, sourceLine: nil, marker: marker,
                    licenseIDs: snapshots.map(\.license.id), detail: "this journal's marker prefix, but no entry of it")
            )
        }
        // Licenses this journal changed but did not create: read by id.
        let changedOnly = changes.keys.filter { !createdIDs.contains($0) }.sorted()
        guard let read = await requests.licenses(ids: changedOnly, client: client) else {
            throw Unavailable(reason: "a read of a changed license failed (see the log)")
        }
        let current = Dictionary(read.map { ($0.license.id, $0) }, uniquingKeysWith: { first, _ in first })
        for id in changedOnly {
            let applied = changes[id] ?? []
            guard let last = applied.last else { continue }
            func finding(_ kind: Kind, _ detail: String) -> Finding {
                Finding(
                    kind: kind, rowID: last.rowID, unit: last.unit, sourceLine: last.sourceLine, marker: "",
                    licenseIDs: [id], detail: detail)
            }
            if let deletion = applied.first(where: { $0.action == .delete }) {
                report.findings.append(
                    current[id] == nil
                        ? finding(.ok, "deleted by row \(deletion.rowID)")
                        : finding(.changed, "row \(deletion.rowID) deleted it, yet the account holds it"))
                continue
            }
            guard let snapshot = current[id] else {
                report.findings.append(
                    finding(
                        .missing,
                        "changed by row \(applied.map(\.rowID).joined(separator: ", ")); the account no longer holds it"
                    ))
                continue
            }
            let differences = Self.differences(
                expected: Self.expected(created: nil, changes: applied, users: users), actual: snapshot)
            report.findings.append(
                differences.isEmpty ? finding(.ok, "") : finding(.changed, differences.joined(separator: "; ")))
        }
        report.findings.sort { ($0.sourceLine ?? .max, $0.rowID, $0.unit) < ($1.sourceLine ?? .max, $1.rowID, $1.unit) }
        return report
    }

    /// The fields licprov set on a license: its create's request (without the metadata and the
    /// customer; the organization and reseller it links to are laid over by the caller), then every
    /// change it applied, in order. `users`: the user ids of the customers updates linked licenses
    /// to (by customer id); a link never resolved is not compared.
    package static func expected(
        created operation: LicenseOperation?, changes: [JournalEntry], users: [Int64: String] = [:]
    ) -> [String: JSONAny] {
        var fields = operation?.fields ?? [:]
        fields["metadata"] = nil
        fields["userId"] = nil
        for change in changes.sorted(by: { $0.id < $1.id }) {
            switch change.operation {
            case .renew?, .setExpiry?: fields["expiresAt"] = change.afterExpiry.map(JSONAny.string) ?? .null
            case .delete?, .create?, nil: break
            case .update(let update)?:
                for (name, value) in update.fields { fields[name] = value }
                if update.linksCustomer {
                    fields["userId"] = change.customerRef.flatMap { users[$0] }.map(JSONAny.string)
                }
            case let flag?:
                for (name, value) in flag.fields { fields[name] = value }
            }
        }
        return fields
    }

    static func differences(expected: [String: JSONAny], actual: LicenseSnapshot) -> [String] {
        expected.keys.sorted().compactMap { name in
            let want = expected[name]!
            let have = actual.fields[name] ?? .null
            return LicenseFields.same(have, want)
                ? nil : "\(name): licprov set \(text(want)), the account has \(text(have))"
        }
    }

    private static func text(_ value: JSONAny) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "?"
    }
}

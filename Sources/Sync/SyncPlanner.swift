import APIRequests
import CryptlexAPI
import CryptlexModels
import FileFormats
import Foundation
import Ingestion
import Journal
import Provisioning
import Scheduling

/// Compares a file that is the desired state with the account's managed licenses, reading only.
///
/// 1. The file is read and checked as `run` checks it (every row a create row: the file says what
///    should exist, not what to do); an invalid file is refused with its problems.
/// 2. The managed licenses — those with the id column's metadata entry, on the products the file
///    names — are listed, 100 a page (`metadata.key[eq]`, `productId[eq]`): a plan of 10,000
///    unchanged licenses costs 101 requests (the last page empty) and no write.
/// 3. Each row against its licenses: none or fewer than `quantity` → creates; more → a conflict
///    (which one would go? licprov does not guess); each license's fields that the file has
///    columns for, compared as JSON (date-times as instants): `revoked`, `suspended` and `expiresAt`
///    become revoke/unrevoke, suspend/unsuspend, set-expiry; the others one update of the fields
///    that differ (a field the API cannot update is said, not planned). Metadata per key: the
///    file's keys take the file's values, every other entry stays, and the update sends the whole
///    list (only for a license with licprov's marker entry, which an update row must carry). A
///    row's customer email against the license's user's (case-insensitively): another email is an
///    update that links the license to that customer (found, or created as `run` creates one).
///    The organization and reseller are not compared.
/// 4. Managed licenses no row names are prune candidates, touched only with `--prune`, and then
///    only up to `--max-prune` (a truncated export must never suspend a customer base).
package enum SyncPlanner {
    package enum PruneMode: String, Sendable, CaseIterable {
        case suspend, revoke, delete

        var kind: SyncPlan.Step.Kind {
            switch self {
            case .suspend: .suspend
            case .revoke: .revoke
            case .delete: .delete
            }
        }
    }

    package struct Options: Sendable {
        package var prune: PruneMode?
        /// nil: 10 % of the managed licenses (at least 1), at most 100.
        package var maxPrune: Int?
        /// The apply's journal: which create units it already sent (see ``SyncPlan``).
        package var journalPath: String

        package init(prune: PruneMode? = nil, maxPrune: Int? = nil, journalPath: String) {
            self.prune = prune
            self.maxPrune = maxPrune
            self.journalPath = journalPath
        }
    }

    /// The file has invalid rows (or change rows): nothing was read from the account.
    package struct InvalidFile: Error, LocalizedError, Sendable {
        package var problems: [Diagnostic]
        package var summary: IngestSummary
        package var errorDescription: String? { "the file has \(problems.count) problems; nothing was planned" }
    }

    /// `--prune` would touch more licenses than `--max-prune` allows.
    package struct PruneRefused: Error, LocalizedError, Sendable {
        package var candidates: Int
        package var limit: Int
        package var managed: Int
        package var mode: PruneMode
        package var errorDescription: String? {
            "--prune \(mode.rawValue) would \(mode.rawValue) \(candidates) of \(managed) managed licenses that no row names, more than "
                + "--max-prune allows (\(limit)); nothing was planned. A truncated export looks like this: check the file. "
                + "If they really should go, pass --max-prune \(candidates)."
        }
    }

    /// A read of the account failed: nothing can be said about what differs.
    package struct Unreadable: Error, LocalizedError, Sendable {
        package var reason: String
        /// The HTTP status of the refusal, when the API answered one.
        package var status: Int? = nil
        /// The token (or its scopes) was refused: not a read to retry later, but a token to fix.
        package var tokenRefused: Bool { status == 401 || status == 403 }
        package var errorDescription: String? {
            "the plan could not read the account: \(reason)"
                + (tokenRefused
                    ? ". Check CRYPTLEX_ACCESS_TOKEN (or --token-file) and its scopes (license:read, user:read)" : "")
        }
    }

    /// How many licenses carry each of `orders` as their `idColumn` entry now (100 orders a request).
    static func count(_ orders: [String], idColumn: String, requests: RunRequests, client: CryptlexClient) async throws
        -> [String: Int]
    {
        guard let found = await requests.licenses(metadataKey: idColumn, values: orders, client: client) else {
            throw Unreadable(reason: "a list request failed")
        }
        let wanted = Set(orders)
        var counts: [String: Int] = [:]
        for snapshot in found {
            if let order = snapshot.license.metadataValue(forKey: idColumn), wanted.contains(order) {
                counts[order, default: 0] += 1
            }
        }
        return counts
    }

    /// What a row wants, kept while the account is read: its body as bytes (a 100,000-row file
    /// is kept as 100,000 small arrays, not dictionaries), decoded when it is compared.
    struct Wanted {
        var order: String
        var line: Int
        var quantity: Int
        var productId: String
        /// The row's request as JSON (metadata included, the id's entry not).
        var body: [UInt8]
        /// The customer, organization and reseller a create carries (usually none: nil, a pointer).
        var owners: Owners?

        /// The customer's email (nil: the file names no customer for the row).
        var email: String? { owners?.customer?.email }
        /// The order ended (its row wants its licenses revoked: a refund, a cancellation).
        var ended = false

        /// The row's body fields, metadata included (the id's entry is not among them), decoded
        /// once per row that has licenses to compare with.
        var fields: [String: JSONAny] { LicenseFields.decode(body) ?? [:] }

        /// The request a create sends: the row's, with the order id as metadata (nil: the body
        /// is not a request, which a checked row's always is).
        func createRequest(idColumn: String) -> LicenseRequest? {
            guard var request = try? JSONDecoder().decode(LicenseRequest.self, from: Data(body)) else { return nil }
            request.metadata = (request.metadata ?? []) + [LicenseMetadata(key: idColumn, value: order)]
            return request
        }
    }

    /// Who a row's licenses belong to, kept boxed: most rows name none, and a plan holds 100,000 rows.
    final class Owners: Sendable {
        let customer: Customer?
        let organization: OrganizationRequest?
        let reseller: ResellerRequest?

        init?(_ row: OrderRow) {
            guard row.customer != nil || row.organization != nil || row.reseller != nil else { return nil }
            customer = row.customer
            organization = row.organization
            reseller = row.reseller
        }
    }

    /// What the plan keeps of a managed license: what it compares, not the whole license (a plan
    /// of 100,000 licenses holds 100,000 of these).
    struct Managed {
        var id: String
        /// Only for orders whose row wants several licenses (the others need no unit numbers).
        var marker: String?
        var updatedAt: String?
        var suspended: Bool
        var revoked: Bool
        /// The email of the license's user (read only when the file names customers).
        var userEmail: String?
        /// The fields the file has columns for, as the account has them, in the order of the
        /// plan's `columns` (an array, not a dictionary per license).
        var values: [JSONAny]
    }

    /// Fields never compared: how a license is found or who it belongs to, or what cannot change.
    static let notCompared: Set<String> = [
        "productId", "metadata", "userId", "key", "organizationId", "resellerId", "createdAt",
    ]

    package static func plan(
        configuration: RunConfiguration, options: Options, client: CryptlexClient,
        stop: StopSignal = StopSignal()
    ) async throws -> SyncPlan {
        guard let idColumn = configuration.ingest.idColumn else {
            throw IngestionError.badOption("plan needs --id-column: the order id is how a row finds its licenses")
        }
        let (wanted, columnSet, skipped, warnings) = try readFile(configuration)
        let columns = columnSet.sorted()
        let comparesCustomers = wanted.contains { $0.email != nil }
        let several = Set(wanted.filter { $0.quantity > 1 }.map(\.order))
        var plan = SyncPlan(idColumn: idColumn, products: Array(Set(wanted.map(\.productId))).sorted())
        plan.skipped = skipped.isEmpty ? nil : skipped
        plan.warnings = warnings.isEmpty ? nil : warnings
        plan.journalPath = URL(fileURLWithPath: options.journalPath).standardizedFileURL.path
        let counters = RunCounters()
        let requests = RunRequests.make(configuration, stop: stop, counters: counters)
        let markerKey = configuration.markerKey ?? RunConfiguration.defaultMarkerKey
        var managed: [String: [Managed]] = [:]
        for product in plan.products {
            let query = LicenseQuery(productId: product, metadataKey: idColumn)
            // Page by page, each license kept as the little the comparison needs.
            let failure = await requests.forEachPage(
                count: { $0.lookups += 1 },
                { (page: Int) async throws(APIError) in
                    try await client.findLicenseSnapshots(query, page: page, limit: 100)
                },
                { snapshots in
                    for snapshot in snapshots {
                        guard let order = snapshot.license.metadataValue(forKey: idColumn) else { continue }
                        managed[order, default: []].append(
                            Managed(
                                id: snapshot.license.id,
                                marker: several.contains(order)
                                    ? snapshot.license.metadataValue(forKey: markerKey) : nil,
                                updatedAt: snapshot.fields["updatedAt"].flatMap(text),
                                suspended: snapshot.license.suspended == true,
                                revoked: snapshot.license.revoked == true,
                                userEmail: comparesCustomers ? userEmail(snapshot) : nil,
                                values: columns.map { snapshot.fields[$0] ?? .null }))
                        plan.managed += 1
                    }
                    return true
                })
            if let failure { throw Unreadable(reason: failure.reason, status: failure.status) }
        }
        plan.requests = counters.snapshot.lookups
        let units = try DerivedUnits(journalPath: options.journalPath)

        for row in wanted {
            let licenses = (managed.removeValue(forKey: row.order) ?? []).sorted { $0.id < $1.id }
            if licenses.count > row.quantity {
                plan.conflicts.append(
                    SyncPlan.Conflict(
                        order: row.order, sourceLine: row.line, licenseIDs: licenses.map(\.id),
                        message:
                            "\(licenses.count) licenses (\(licenses.map(\.id).joined(separator: ", "))) for a row that wants \(row.quantity); "
                            + "nothing planned for it: delete the extra one in Cryptlex, or raise the row's quantity"))
                continue
            }
            let fields = licenses.isEmpty ? [:] : row.fields
            for license in licenses {
                var steps = diff(
                    row, fields: fields, license, columns: columns, markerKey: configuration.markerKey,
                    notes: &plan.notes)
                if !steps.isEmpty, let applied = try units.applied(licenseID: license.id) {
                    // Drift: every field of the step is what licprov last applied; the account moved.
                    for index in steps.indices {
                        steps[index].drift = steps[index].fields.allSatisfy { field in
                            applied[field.name].map { sameValue(field.name, $0, field.new) } ?? false
                        }
                    }
                }
                if steps.isEmpty { plan.unchanged += 1 } else { plan.steps += steps }
            }
            var missing = row.quantity - licenses.count
            // An order that ended (refunded, canceled) gets no license made in order to revoke it.
            if missing > 0, row.ended {
                if licenses.isEmpty {
                    plan.skipped =
                        (plan.skipped ?? []) + [
                            SyncPlan.Skipped(
                                order: row.order, sourceLine: row.line,
                                reason: "ended (revoked) before it was provisioned: no license is made to be revoked")
                        ]
                }
                missing = 0
            }
            if missing > 0 {
                // A license the apply's journal created that the list does not show is read by id:
                // the list may lag behind a create (it is there), or it was deleted by hand (404).
                let listed = Set(licenses.map(\.id))
                for id in try units.createdLicenses(order: row.order) where !listed.contains(id) && missing > 0 {
                    switch await requests.read(
                        count: { $0.lookups += 1 }, { () async throws(APIError) in try await client.license(id: id) })
                    {
                    case .success: missing -= 1
                    case .failure(let failure) where failure.status == 404: break
                    case .failure(let failure): throw Unreadable(reason: failure.reason, status: failure.status)
                    }
                }
                plan.requests = counters.snapshot.lookups
            }
            if missing > 0 {
                let markers = Set(licenses.compactMap(\.marker))
                let request = row.createRequest(idColumn: idColumn)
                for unit in try units.free(order: row.order, count: missing, presentMarkers: markers) {
                    var step = SyncPlan.Step(
                        kind: .create, order: row.order, sourceLine: row.line, unit: unit, request: request,
                        customer: row.owners?.customer, organization: row.owners?.organization,
                        reseller: row.owners?.reseller)
                    step.existing = licenses.count
                    plan.steps.append(step)
                }
            }
        }
        // A license made while the pages were read can be missed by offset paging: every order the
        // plan would create licenses for is counted again, directly (100 orders a request), and a
        // create the account no longer needs is dropped, not guessed at.
        let creates = plan.steps.filter { $0.kind == .create }
        if !creates.isEmpty {
            let counts = try await count(
                Array(Set(creates.map(\.order))).sorted(), idColumn: idColumn, requests: requests, client: client)
            var extra: [String: Int] = [:]
            for step in creates { extra[step.order] = max(0, counts[step.order, default: 0] - (step.existing ?? 0)) }
            plan.steps.removeAll { step in
                guard step.kind == .create, let more = extra[step.order], more > 0 else { return false }
                extra[step.order] = more - 1
                plan.notes.append(
                    "\(step.order): a license for it appeared while the plan read the account; not created (plan again to compare it)"
                )
                return true
            }
            plan.requests = counters.snapshot.lookups
        }
        // A skipped row still names its order: its licenses are left as they are, never pruned.
        for skip in skipped {
            guard let licenses = managed.removeValue(forKey: skip.order) else { continue }
            plan.notes.append(
                "\(skip.order) (line \(skip.sourceLine)) is skipped (\(skip.reason)); \(licenses.count == 1 ? "its license is left as it is" : "its \(licenses.count) licenses are left as they are")"
            )
        }
        // What is left: the managed licenses no row named (each row took its own out).
        let strays = managed.sorted { $0.key < $1.key }.flatMap { order, licenses in licenses.map { (order, $0) } }
        plan.pruneCandidates = strays.count
        plan.pruneMode = options.prune?.rawValue
        if let mode = options.prune {
            let prunes = strays.filter { _, license in
                switch mode {
                case .suspend: !license.suspended
                case .revoke: !license.revoked
                case .delete: true
                }
            }
            let limit = options.maxPrune ?? min(100, max(1, plan.managed / 10))
            if prunes.count > limit {
                throw PruneRefused(candidates: prunes.count, limit: limit, managed: plan.managed, mode: mode)
            }
            for (order, license) in prunes {
                plan.steps.append(
                    SyncPlan.Step(
                        kind: mode.kind, order: order, licenseID: license.id, prune: true,
                        licenseUpdatedAt: license.updatedAt))
            }
        }
        return plan
    }
}

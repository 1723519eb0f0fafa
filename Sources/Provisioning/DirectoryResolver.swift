import APIRequests
import CryptlexAPI
import CryptlexModels
import Foundation
import Journal
import Logging
import Scheduling

/// Turns a row's organization and reseller (names) into Cryptlex ids, once per journal: what
/// ``CustomerResolver`` does for users, for `organization.*` and `reseller.*` columns.
///
/// Resolution of one name:
///
/// 1. Before any send, ``resolveTogether(_:)`` lists the names a run needs with `name[in]` (a
///    hundred a request; a name with a comma alone with `name[eq]`), resellers first.
/// 2. `GET /v3/organizations?name[eq]=` (or resellers): exactly one with that name (trimmed, any
///    case) → resolved, not created by licprov. Several → the rows are rejected: Cryptlex allows
///    two organizations with one name, and licprov never guesses which one an order means (give the
///    rows an `organizationId` column instead). An organization found under another reseller than
///    the row's is used as it is, with a warning.
/// 3. None: marked in flight in the journal, durably, then `POST` (an organization under its
///    reseller, resolved first). 201 → resolved. 409, a lost answer, a 5xx → looked up by name again
///    after `--reconcile-delay`, never created a second time by a blind retry.
///
/// A name the journal already resolved costs no request, in this run or any later one.
actor DirectoryResolver: FindsOrCreates {
    typealias Failure = CustomerResolver.Failure

    private let journal: SQLiteJournal
    private let client: CryptlexClient
    let requests: RunRequests
    let reconcileDelay: Duration
    private let logger: Logger
    private var counters: RunCounters { requests.counters }
    var once = OnceEach<Result<String, Failure>>()
    /// Entries a batched lookup did not find: their first lookup is skipped.
    private var knownAbsent = Set<Int64>()

    init(
        journal: SQLiteJournal, client: CryptlexClient, requests: RunRequests, reconcileDelay: Duration, logger: Logger
    ) {
        self.journal = journal
        self.client = client
        self.requests = requests
        self.reconcileDelay = reconcileDelay
        self.logger = logger
    }

    /// The Cryptlex id of organization or reseller `id`, resolving it the first time it is asked for.
    func remoteID(for id: Int64) async -> Result<String, Failure> {
        await resolved(id)
    }

    func resolve(_ id: Int64) async -> Result<String, Failure> {
        let entry: DirectoryEntry
        do {
            guard let found = try journal.directoryEntry(id: id) else {
                return .failure(Failure(message: "unknown organization or reseller", permanent: false))
            }
            entry = found
        } catch {
            return .failure(Failure(message: error.localizedDescription, permanent: false))
        }
        if entry.state == .resolved, let remoteID = entry.remoteID { return .success(remoteID) }
        if entry.state == .failed, let error = entry.error { return .failure(Failure(message: error, permanent: true)) }
        // An organization goes under its reseller: that one first.
        var resellerID: String?
        if let resellerRef = entry.resellerRef {
            switch await remoteID(for: resellerRef) {
            case .success(let found): resellerID = found
            case .failure(let failure):
                return .failure(Failure(message: "its reseller: \(failure.message)", permanent: failure.permanent))
            }
        }
        return await findOrCreate(
            Placed(entry: entry, resellerID: resellerID), inFlight: entry.state == .inFlight,
            lookFirst: !knownAbsent.contains(id))
    }

    /// An organization or reseller with its reseller's Cryptlex id (an organization's, resolved first).
    struct Placed: Sendable {
        var entry: DirectoryEntry
        var resellerID: String?
    }

    func lookUp(_ placed: Placed, createdByUs: Bool) async -> Result<String?, Failure> {
        switch await find(placed.entry) {
        case .success(let matches):
            switch settle(placed.entry, matches: matches, resellerID: placed.resellerID, createdByUs: createdByUs) {
            case nil: return .success(nil)
            case .success(let id)?: return .success(id)
            case .failure(let failure)?: return .failure(failure)
            }
        case .failure(let failure):
            return .failure(failure)
        }
    }

    func creation(of placed: Placed) async -> Result<Creation<DirectoryRecord>, Failure> {
        let client = self.client
        let journal = self.journal
        let counters = self.counters
        let id = placed.entry.id
        let body = Self.createBody(placed.entry, resellerID: placed.resellerID)
        return .success(
            Creation(
                what: "\(placed.entry.kind.rawValue) \"\(placed.entry.name)\"",
                count: { $0.directoryRequests += 1 },
                markInFlight: { () throws(JournalError) in try journal.update(directory: id, state: .inFlight) },
                send: { () async throws(APIError) in
                    switch body {
                    case .organization(let request): try await client.createOrganization(request)
                    case .reseller(let request): try await client.createReseller(request)
                    }
                },
                recordCreated: { (created: DirectoryRecord) throws(JournalError) in
                    counters.update { $0.directoryCreated += 1 }
                    try journal.update(directory: id, state: .resolved, remoteID: created.id, createdByUs: true)
                    return created.id
                },
                recordFailed: { message in try? journal.update(directory: id, state: .failed, error: message) }))
    }

    /// What a lookup's records with the entry's name decide: nil when there is none (create it).
    private func settle(_ entry: DirectoryEntry, matches: [DirectoryRecord], resellerID: String?, createdByUs: Bool)
        -> Result<String, Failure>?
    {
        let key = DirectoryName.key(entry.name)
        var named = matches.filter { DirectoryName.key($0.name) == key }
        if named.count > 1, entry.kind == .organization {
            let underReseller = named.filter { $0.resellerId == resellerID }
            if underReseller.count == 1 { named = underReseller }
        }
        switch named.count {
        case 0:
            return nil
        case 1:
            let record = named[0]
            if entry.kind == .organization, record.resellerId != resellerID {
                logger.warning(
                    "the organization exists under another reseller; licenses and users are linked to it as it is",
                    metadata: [
                        "organization": "\(entry.name)", "its reseller": "\(record.resellerId ?? "none")",
                        "the file's": "\(resellerID ?? "none")",
                    ])
            }
            counters.update { if createdByUs { $0.directoryCreated += 1 } else { $0.directoryFound += 1 } }
            do {
                try journal.update(directory: entry.id, state: .resolved, remoteID: record.id, createdByUs: createdByUs)
            } catch {
                return .failure(Failure(message: error.localizedDescription, permanent: false))
            }
            return .success(record.id)
        default:
            let message =
                "\(named.count) \(entry.kind.rawValue)s are named \"\(entry.name)\" (ids \(named.map(\.id).joined(separator: ", "))); "
                + "licprov does not guess which one the rows mean: rename one in Cryptlex, or give the rows an \(entry.kind.rawValue)Id column"
            try? journal.update(directory: entry.id, state: .failed, error: message)
            return .failure(Failure(message: message, permanent: true))
        }
    }

    enum CreateBody: Sendable {
        case organization(OrganizationRequest)
        case reseller(ResellerRequest)
    }

    private static func createBody(_ entry: DirectoryEntry, resellerID: String?) -> CreateBody {
        let decoder = JSONDecoder()
        switch entry.kind {
        case .organization:
            var request =
                (try? decoder.decode(OrganizationRequest.self, from: Data(entry.body)))
                ?? OrganizationRequest(name: entry.name, email: "")
            request.resellerId = resellerID
            return .organization(request)
        case .reseller:
            return .reseller(
                (try? decoder.decode(ResellerRequest.self, from: Data(entry.body)))
                    ?? ResellerRequest(name: entry.name, email: ""))
        }
    }

    /// Resolves `entries` (not looked up yet) together, resellers first: a batch of names a
    /// request (``ValueBatches``). Found once → resolved; absent → the first license that needs it
    /// creates it without another lookup. Several with one name, a name with a comma and a batch
    /// whose request failed are left to ``remoteID(for:)``.
    func resolveTogether(_ entries: [DirectoryEntry]) async {
        for kind in [DirectoryEntry.Kind.reseller, .organization] {
            let waiting = entries.filter {
                $0.kind == kind && once.outcomes[$0.id] == nil && once.waiters[$0.id] == nil
                    && !knownAbsent.contains($0.id)
            }
            let byName = Dictionary(grouping: waiting, by: \.name)
            let lookup = RunRequests.ByValues<DirectoryRecord>(
                batch: { [client] (names: [String], page: Int) async throws(APIError) in
                    try await Self.find(kind, names: names, page: page, client: client)
                }, single: nil)
            for (names, found) in await requests.listByValues(
                waiting.map(\.name), filter: "name", count: { $0.directoryLookups += 1 }, lookup)
            {
                if let found { settle(names.flatMap { byName[$0] ?? [] }, kind: kind, found: found) }
            }
        }
    }

    private func settle(_ batch: [DirectoryEntry], kind: DirectoryEntry.Kind, found: [DirectoryRecord]) {
        let byKey = Dictionary(grouping: found, by: { DirectoryName.key($0.name) })
        for entry in batch {
            let matches = byKey[DirectoryName.key(entry.name)] ?? []
            if matches.isEmpty {
                knownAbsent.insert(entry.id)
                continue
            }
            guard matches.count == 1 else { continue }
            var resellerID: String?
            if let resellerRef = entry.resellerRef, case .success(let id)? = once.outcomes[resellerRef] {
                resellerID = id
            }
            // Under another reseller (or one still to be created): the per-entry path warns.
            if kind == .organization, entry.resellerRef != nil, matches[0].resellerId != resellerID { continue }
            if let outcome = settle(entry, matches: matches, resellerID: resellerID, createdByUs: false) {
                once.outcomes[entry.id] = outcome
            }
        }
    }

    /// One lookup by name, through the rate limiter and retried like any read.
    private func find(_ entry: DirectoryEntry) async -> Result<[DirectoryRecord], Failure> {
        await list(entry.kind, names: [entry.name]).mapError { Failure(message: $0.reason, permanent: false) }
    }

    private typealias Found = Result<[DirectoryRecord], RunRequests.ReadFailure>

    private func list(_ kind: DirectoryEntry.Kind, names: [String]) async -> Found {
        let client = self.client
        return await requests.readAllPages(
            count: { $0.directoryLookups += 1 },
            { (page: Int) async throws(APIError) in try await Self.find(kind, names: names, page: page, client: client)
            })
    }

    private static func find(_ kind: DirectoryEntry.Kind, names: [String], page: Int, client: CryptlexClient)
        async throws(APIError) -> CryptlexClient.Answer<[DirectoryRecord]>
    {
        switch kind {
        case .organization: try await client.findOrganizations(names: names, page: page)
        case .reseller: try await client.findResellers(names: names, page: page)
        }
    }
}

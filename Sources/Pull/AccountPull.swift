import APIRequests
import CryptlexAPI
import CryptlexModels
import Foundation
import Ingestion
import Logging

/// `licprov pull`: the account's licenses as a file.
///
/// **Paging by a stable order.** Each product's licenses are listed oldest first
/// (`sort=+createdAt`), 100 a page, from a cursor: the `createdAt` of the last license read
/// (`createdAt[gte]=CURSOR`, page 1), with the licenses already read at exactly that time skipped
/// by id. An offset would shift under the pull: a license deleted on a page already read would
/// move the next page's first license onto it, unread. A cursor does not move: a license deleted
/// during the pull is listed if its page came before, never in place of another; one created during
/// it (its `createdAt` is now) comes after the cursor and is listed once. Licenses that share one
/// `createdAt` (a migration's) are paged within that time (`page` 2, 3, …).
///
/// **Resumable.** With `-o FILE`, the licenses go to `FILE.pull.ndjson` as they come, and after
/// each page (appended and synced) `FILE.pull.json` records the cursor and the spool's length,
/// replaced atomically. Killed at any point, the same command reads the record, cuts the spool back
/// to the length it names and asks for the page after it: no page it recorded is read again. One
/// page is read ahead (its cursor is known once a page arrives): it goes out while the page before
/// it is written and recorded, so the record's fsync and rename do not sit between two requests.
/// The output is written whole once every page is in — to `FILE.tmp`, renamed onto `FILE` — so
/// it appears whole or not at all, and the pull's own files are removed.
///
/// **Names in batches.** A page's users that the list did not show whole are read with
/// `GET /v3/users?id[in]=…`, and its organizations and resellers not read before with
/// `id[in]` — 100 ids a request through the run's one lookup (``RunRequests/listByValues``),
/// never one request a license.
package final class AccountPull {
    package struct Options: Sendable {
        package var productIDs: [String]
        package var conditions: [PullCondition]
        /// The output file; nil: standard output (then nothing is resumable).
        package var output: String?
        package var format: PullFormat

        package init(productIDs: [String], conditions: [PullCondition], output: String?, format: PullFormat) {
            self.productIDs = productIDs
            self.conditions = conditions
            self.output = output
            self.format = format
        }
    }

    /// What a pull did.
    package struct Summary: Sendable {
        package var licenses = 0
        package var pages = 0
        /// Pages a previous, interrupted pull of the same selection had already read.
        package var pagesResumed = 0
        package var requests = 0
        package var tooManyRequests = 0
        package var output: String?
        package var format: PullFormat = .csv
    }

    private let options: Options
    private let client: CryptlexClient
    private let requests: RunRequests
    private let logger: Logger
    private let progress: (@Sendable (Summary) -> Void)?
    private var names: [String: [String: String]] = ["organization": [:], "reseller": [:]]

    package init(
        _ options: Options, client: CryptlexClient, requests: RunRequests, logger: Logger,
        progress: (@Sendable (Summary) -> Void)? = nil
    ) {
        self.options = options
        self.client = client
        self.requests = requests
        self.logger = logger
        self.progress = progress
    }

    /// Pulls every page, then writes the output (to `write` when there is no output file).
    package func run(write: (UnsafeRawBufferPointer) -> Void) async throws(PullError) -> Summary {
        let files = PullFiles(output: options.output)
        defer { if options.output == nil { files.removeScratch() } }
        var state = try files.resume(selection: selectionKey)
        var summary = Summary(output: options.output, format: options.format)
        summary.pagesResumed = state.pages
        if state.pages > 0 {
            logger.notice(
                "resuming the pull after page \(state.pages) (\(state.licenses) licenses already read)",
                metadata: ["record": "\(files.statePath)"])
        }
        if !state.done {
            let spool = try files.openSpool(length: state.spoolBytes)
            defer { try? spool.close() }
            let filters = try await resolvedFilters()
            if let filters {
                // One page read ahead: the next page's cursor is known as soon as a page arrives, so
                // its request goes out while this page is filled in, written and recorded. A page
                // read ahead but not recorded when the pull stops is read again by the next one.
                var ahead: Task<Result<[LicenseSnapshot], RunRequests.ReadFailure>, Never>?
                defer { ahead?.cancel() }
                while state.product < options.productIDs.count {
                    if let reason = requests.stop.reason {
                        throw PullError.stopped(
                            "stopped after page \(state.pages) (\(reason)); run the same command again to resume")
                    }
                    let reading = ahead ?? fetch(state, filters: filters)
                    ahead = nil
                    let answer: [LicenseSnapshot]
                    switch await reading.value {
                    case .success(let licenses): answer = licenses
                    case .failure(let failure):
                        throw PullError.api(
                            "reading page \(state.pages + 1) failed: \(failure.reason); run the same command again to resume",
                            status: failure.status)
                    }
                    var next = state
                    Self.advance(&next, past: answer)
                    if next.product < options.productIDs.count, requests.stop.reason == nil {
                        ahead = fetch(next, filters: filters)
                    }
                    state = try await record(
                        answer, from: state, to: next, spool: spool, files: files, summary: &summary)
                }
            }
            state.done = true
            try files.save(state)
        }
        summary.licenses = state.licenses
        summary.pages = state.pages
        try PullWriter.write(
            spool: files.spoolPath, state: state, format: options.format, output: options.output, write: write)
        if options.output != nil { files.removeScratch() }
        let counts = requests.counters.snapshot
        summary.requests = counts.lookups
        summary.tooManyRequests = counts.tooManyRequests
        return summary
    }

    /// Which selection a record belongs to: the products and the conditions (not the format:
    /// the spool is the same for every format).
    private var selectionKey: String {
        (options.productIDs + ["--"] + options.conditions.map(\.description)).joined(separator: "\u{1F}")
    }

    /// The API's filters for the conditions, names resolved to ids; nil when a name names nothing
    /// (then no license can match and nothing is listed).
    private func resolvedFilters() async throws(PullError) -> [QueryItem]? {
        var filters: [QueryItem] = []
        for condition in options.conditions {
            var ids: [String]?
            if condition.comparison == .equal,
                condition.field == "organization.name" || condition.field == "reseller.name"
            {
                let resellers = condition.field == "reseller.name"
                let found = try await read("\(condition.field) \(condition.value)") {
                    (page: Int) async throws(APIError) in
                    resellers
                        ? try await self.client.findResellers(names: [condition.value], page: page)
                        : try await self.client.findOrganizations(names: [condition.value], page: page)
                }
                let matching = found.filter { $0.name == condition.value }
                guard !matching.isEmpty else {
                    logger.notice(
                        "no \(resellers ? "reseller" : "organization") is named \(condition.value): nothing to list")
                    return nil
                }
                for record in matching { names[resellers ? "reseller" : "organization"]?[record.id] = record.name }
                ids = matching.map(\.id)
            }
            filters += condition.apiFilters(ids: ids)
        }
        return filters
    }

    /// The request for the page `state` points at, started now.
    private func fetch(_ state: PullState, filters: [QueryItem]) -> Task<
        Result<[LicenseSnapshot], RunRequests.ReadFailure>, Never
    > {
        var query = LicenseQuery(productId: options.productIDs[state.product])
        query.oldestFirst = true
        query.filters = filters
        if let cursor = state.cursor { query.filters.append(QueryItem("createdAt[gte]", cursor)) }
        let page = state.page
        let client = client
        let requests = requests
        return Task {
            await requests.read(
                count: { $0.lookups += 1 },
                { () async throws(APIError) in try await client.findLicenseSnapshots(query, page: page, limit: 100) })
        }
    }

    /// Where the pull stands after `answer`: the cursor moves to the newest license read, and the
    /// licenses at exactly that time are skipped by id; a short page ends the product.
    static func advance(_ state: inout PullState, past answer: [LicenseSnapshot]) {
        if answer.count < 100 {
            state.product += 1
            state.cursor = nil
            state.seen = []
            state.page = 1
        } else if let last = answer.last?.fields["createdAt"], case .string(let newest) = last, newest != state.cursor {
            state.cursor = newest
            state.seen = answer.filter { $0.fields["createdAt"] == .string(newest) }.map(\.license.id)
            state.page = 1
        } else {
            state.seen += answer.map(\.license.id)
            state.page += 1
        }
    }

    /// Keeps what the conditions select of a page read at `state`, fills in names, appends it to
    /// the spool (synced) and records `next` with the spool's new length — then, and only then, the
    /// page counts as read. Returns what was recorded.
    private func record(
        _ answer: [LicenseSnapshot], from state: PullState, to next: PullState, spool: FileHandle, files: PullFiles,
        summary: inout Summary
    ) async throws(PullError) -> PullState {
        let seen = Set(state.seen)
        var licenses = answer.filter { !seen.contains($0.license.id) }.map(\.fields)
        try await fillNames(&licenses)
        licenses = licenses.filter { license in options.conditions.allSatisfy { $0.matches(license) } }
        var bytes: [UInt8] = []
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var fields = Set(state.fields)
        var keys = Set(state.metadataKeys)
        for license in licenses {
            guard let line = try? encoder.encode(license) else { continue }
            bytes += line
            bytes.append(UInt8(ascii: "\n"))
            fields.formUnion(PulledLicense.presentFields(license))
            keys.formUnion(PulledLicense.metadataKeys(license))
        }
        do {
            try spool.write(contentsOf: bytes)
            try spool.synchronize()
        } catch {
            throw PullError.file("cannot write \(files.spoolPath): \(error.localizedDescription)")
        }
        var recorded = next
        recorded.spoolBytes = state.spoolBytes + UInt64(bytes.count)
        recorded.licenses = state.licenses + licenses.count
        recorded.pages = state.pages + 1
        recorded.fields = fields.sorted()
        recorded.metadataKeys = keys.sorted()
        try files.save(recorded)
        summary.licenses = recorded.licenses
        summary.pages = recorded.pages
        let counts = requests.counters.snapshot
        summary.requests = counts.lookups
        summary.tooManyRequests = counts.tooManyRequests
        progress?(summary)
        return recorded
    }

    /// Fills in each license's user (when the list did not show it whole), organization and
    /// reseller, read in batches.
    private func fillNames(_ licenses: inout [[String: JSONAny]]) async throws(PullError) {
        func id(_ license: [String: JSONAny], _ field: String) -> String? {
            if case .string(let id)? = license[field], !id.isEmpty { id } else { nil }
        }
        // Users.
        let missingUsers = Set(
            licenses.compactMap { license -> String? in
                guard let userID = id(license, "userId") else { return nil }
                if case .object(let user)? = license["user"], user["email"] != nil { return nil }
                return userID
            })
        var users: [String: JSONAny] = [:]
        let found = try await readByID(missingUsers, what: "users") {
            (ids: [String], page: Int) async throws(APIError) in
            try await self.client.findUsers(ids: ids, page: page)
        }
        for user in found {
            var fields: [String: JSONAny] = ["id": .string(user.id), "email": .string(user.email)]
            if let first = user.firstName { fields["firstName"] = .string(first) }
            if let last = user.lastName { fields["lastName"] = .string(last) }
            users[user.id] = .object(fields)
        }
        // Organizations and resellers, each id read once a pull.
        for (kind, field) in [("organization", "organizationId"), ("reseller", "resellerId")] {
            let unknown = Set(licenses.compactMap { id($0, field) }).filter { names[kind]?[$0] == nil }
            let resellers = kind == "reseller"
            let records = try await readByID(unknown, what: kind + "s") {
                (ids: [String], page: Int) async throws(APIError) in
                try await self.client.findDirectoryRecords(resellers: resellers, ids: ids, page: page)
            }
            for record in records { names[kind]?[record.id] = record.name }
        }
        for index in licenses.indices {
            if let userID = id(licenses[index], "userId"), let user = users[userID] { licenses[index]["user"] = user }
            for (kind, field) in [("organization", "organizationId"), ("reseller", "resellerId")] {
                guard let linked = id(licenses[index], field) else { continue }
                var object: [String: JSONAny] = ["id": .string(linked)]
                if let name = names[kind]?[linked] { object["name"] = .string(name) }
                licenses[index][kind] = .object(object)
            }
        }
    }

    /// What these ids name, 100 ids a request (`id[in]`) through the run's one lookup by values;
    /// a failed request stops the pull (resumable).
    private func readByID<Element: Sendable>(
        _ ids: Set<String>, what: String,
        _ batch: @escaping (_ ids: [String], _ page: Int) async throws(APIError) -> CryptlexClient.Answer<[Element]>
    ) async throws(PullError) -> [Element] {
        var all: [Element] = []
        for (values, found) in await requests.listByValues(
            ids.sorted(), filter: "id", count: { $0.lookups += 1 }, RunRequests.ByValues(batch: batch, single: nil))
        {
            guard let found else {
                throw PullError.api(
                    "reading the \(what) \(values.prefix(3).joined(separator: ", ")) failed; run the same command again to resume",
                    status: nil)
            }
            all += found
        }
        return all
    }

    /// Every page of a list of names (a name is rarely on more than one page).
    private func read<Element: Sendable>(
        _ what: String, _ call: (_ page: Int) async throws(APIError) -> CryptlexClient.Answer<[Element]>
    ) async throws(PullError) -> [Element] {
        switch await requests.readAllPages(count: { $0.lookups += 1 }, call) {
        case .success(let found): return found
        case .failure(let failure):
            throw PullError.api("looking up \(what) failed: \(failure.reason)", status: failure.status)
        }
    }
}

/// The output formats of a pull.
package enum PullFormat: String, Sendable, CaseIterable {
    /// licprov's layout, one row per license.
    case csv
    case ndjson
    case xlsx
    /// The API's own array of `LicenseDto`s, with users, organizations and resellers: what
    /// `run --from cryptlex` reads.
    case cryptlex

    /// The format `-o`'s extension names (`.csv`, `.ndjson`/`.jsonl`, `.xlsx`, `.json`: cryptlex).
    package static func of(path: String) -> PullFormat? {
        switch (path as NSString).pathExtension.lowercased() {
        case "csv": .csv
        case "ndjson", "jsonl": .ndjson
        case "xlsx": .xlsx
        case "json": .cryptlex
        default: nil
        }
    }
}

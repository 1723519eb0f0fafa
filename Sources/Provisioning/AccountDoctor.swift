import CryptlexAPI
import CryptlexModels
import Foundation
import Scheduling

/// `licprov doctor`: what a first run against an account needs to know, found with a dozen
/// requests that change nothing — the token, its write scopes (a create with an empty body, which
/// the API refuses with 400 when the scope is there and 403 when it is not), the product, each
/// list filter licprov relies on, and the rate-limit headers as they come. With `writeProbe` it
/// also creates one marked license, times how long the list takes to show it (the search lag that
/// `--reconcile-delay` must exceed) and deletes it; the probe's intent is written to a file before
/// the create, so a crash never leaves the license behind: the next doctor finds and deletes it.
package struct AccountDoctor: Sendable {
    package enum Status: String, Sendable, Codable {
        case ok, warning, failed
    }

    /// One line of the diagnosis.
    package struct Check: Sendable, Codable, Equatable {
        package var name: String
        package var status: Status
        package var detail: String
    }

    /// What the answers said about the rate limit.
    package struct RateLimitSeen: Sendable, Codable, Equatable {
        /// `X-Rate-Limit-Limit` as sent (the window, e.g. `5s`).
        package var window: String?
        /// The fewest requests left that an answer reported.
        package var lowestRemaining: Int?
        /// `X-Rate-Limit-Reset` as one answer wrote it, and its format in words.
        package var resetExample: String?
        package var resetFormat: String?
        /// The largest difference between the reported ends of one window, in ms.
        package var resetSpreadMilliseconds: Double?
        /// The server's clock minus ours, from `Date` (whole seconds): the range it must lie in.
        package var clockOffsetMilliseconds: ClosedRange<Double>?
    }

    package struct Report: Sendable, Codable {
        package var apiURL: String
        package var checks: [Check] = []
        package var rateLimit: RateLimitSeen?
        /// How long a created license took to show in the list (`--write-probe`).
        package var searchLagMilliseconds: Int?
        /// `--reconcile-delay` to use, in seconds, when the lag was measured.
        package var recommendedReconcileDelay: Double?
        /// The API could not be reached at all.
        package var unreachable = false
        /// The token was refused, or lacks a scope every run needs.
        package var accessDenied = false

        package var warnings: Int { checks.count { $0.status != .ok } }
    }

    package struct Options: Sendable {
        package var productID: String?
        package var writeProbe = false
        /// Where the probe's intent is kept until its license is deleted.
        package var probeFile: String
        package var markerKey = RunConfiguration.defaultMarkerKey
        /// The longest wait for the probe to show in the list.
        package var lagLimit: Duration = .seconds(120)
        /// The pause between two requests (the doctor stays far under the rate limit).
        package var pace: Duration = .milliseconds(150)

        package init(probeFile: String) {
            self.probeFile = probeFile
        }
    }

    /// One answer, with when it was sent and came back on the wall clock.
    struct Exchange {
        var sent: Date
        var answered: Date
        var rateLimit: RateLimitStatus
        /// A 429 (waited for and sent again).
        var refused = false
    }

    let client: CryptlexClient
    let options: Options
    private let log = ExchangeLog()

    package init(client: CryptlexClient, options: Options) {
        self.client = client
        self.options = options
    }

    /// Runs every check; never throws (what went wrong is in the report).
    package func diagnose() async -> Report {
        var report = Report(apiURL: client.baseURL.description)
        // The token: one cheap list. Without an answer, nothing else can be learned.
        switch await call({ () async throws(APIError) in try await client.findLicenses(LicenseQuery(), page: 1, limit: 1) }) {
        case .success:
            report.checks.append(Check(name: "token", status: .ok, detail: "accepted (GET /v3/licenses answered 200)"))
        case .failure(let error) where error.status == nil:
            report.unreachable = true
            report.checks.append(Check(name: "api", status: .failed, detail: "cannot reach \(client.baseURL): \(error.failure.transportDetail ?? error.description)"))
            return report
        case .failure(let error) where error.status == 401:
            report.accessDenied = true
            report.checks.append(Check(name: "token", status: .failed, detail: "refused (401): check CRYPTLEX_ACCESS_TOKEN or --token-file"))
            return report
        case .failure(let error) where error.status == 403:
            report.accessDenied = true
            report.checks.append(Check(name: "license:read", status: .failed, detail: "the token lacks the scope license:read (403): licprov cannot find licenses"))
            return report
        case .failure(let error):
            report.checks.append(Check(name: "token", status: .warning, detail: "the first list answered \(error.description)"))
        }
        await checkWriteScopes(&report)
        await checkFilters(&report)
        if let productID = options.productID { await checkProduct(productID, &report) }
        await settleLeftoverProbe(&report)
        if options.writeProbe, let productID = options.productID { await probe(productID, &report) }
        report.rateLimit = Self.rateLimit(await log.all(), into: &report.checks)
        return report
    }

    // MARK: the checks

    private func checkWriteScopes(_ report: inout Report) async {
        // An empty body cannot create anything: 400 says the scope is there, 403 that it is not.
        switch await call({ () async throws(APIError) in try await client.createLicense(body: Array("{}".utf8)) }) {
        case .failure(let error) where error.status == 400:
            report.checks.append(Check(name: "license:write", status: .ok, detail: "may create and change licenses (a create with an empty body was refused with 400; nothing was created)"))
        case .failure(let error) where error.status == 403:
            report.accessDenied = true
            report.checks.append(Check(name: "license:write", status: .failed, detail: "the token lacks the scope license:write (403): licprov cannot create or change licenses"))
        case .failure(let error):
            report.checks.append(Check(name: "license:write", status: .warning, detail: "could not tell: an empty create answered \(error.description)"))
        case .success(let answer):
            _ = await call({ () async throws(APIError) in try await client.deleteLicense(id: answer.value.id) })
            report.checks.append(Check(name: "license:write", status: .warning, detail: "an empty create made license \(answer.value.id) (deleted again): the API does not check bodies as published"))
        }
        switch await call({ () async throws(APIError) in try await client.createUser(body: Array("{}".utf8)) }) {
        case .failure(let error) where error.status == 400:
            report.checks.append(Check(name: "user:write", status: .ok, detail: "may create customers (an empty create was refused with 400; nothing was created)"))
        case .failure(let error) where error.status == 403:
            report.checks.append(Check(name: "user:write", status: .warning, detail: "the token lacks user:write (403): a row whose customer the account does not have fails; add the scope or pass --no-create-users"))
        case .failure(let error):
            report.checks.append(Check(name: "user:write", status: .warning, detail: "could not tell: an empty create answered \(error.description)"))
        case .success(let answer):
            report.checks.append(Check(name: "user:write", status: .warning, detail: "an empty create made user \(answer.value.id): the API does not check bodies as published"))
        }
    }

    /// Each list filter licprov relies on, with values that match nothing.
    private func checkFilters(_ report: inout Report) async {
        let nothing = ["licprov-doctor-\(UUID().uuidString.lowercased())", "licprov-doctor-\(UUID().uuidString.lowercased())"]
        let licenses: [(name: String, query: LicenseQuery, without: String)] = [
            ("metadata.value[in]", LicenseQuery(metadataKey: options.markerKey, metadataValues: nothing),
             "lost answers and entries left in flight are looked up one a request"),
            ("metadata.value[sw]", { var query = LicenseQuery(metadataKey: options.markerKey); query.metadataValuePrefix = nothing[0]; return query }(),
             "audit lists the journal's markers by value (one request per 100, or per license without in) and cannot find unknown licenses"),
            ("id[in]", { var query = LicenseQuery(); query.ids = nothing; return query }(), "change targets and audit read licenses one at a time by id"),
            ("key[in]", { var query = LicenseQuery(); query.keys = nothing; return query }(), "change targets by key are looked up one a request"),
        ]
        for filter in licenses {
            let query = filter.query
            report.checks.append(Self.filterCheck(filter.name, filter.without,
                                                  await call({ () async throws(APIError) in try await client.findLicenses(query, page: 1, limit: 1) })))
        }
        let emails = nothing.map { $0 + "@example.invalid" }.joined(separator: ",")
        let users = await call({ () async throws(APIError) in try await client.listUsers(filter: ("email[in]", emails)) })
        if case .failure(let error) = users, error.status == 403 {
            report.checks.append(Check(name: "user:read", status: .warning, detail: "the token lacks user:read (403): rows with a customer email fail"))
        } else {
            report.checks.append(Self.filterCheck("email[in]", "customers are looked up one a request", users))
        }
    }

    private static func filterCheck<Value>(_ name: String, _ without: String, _ result: Result<CryptlexClient.Answer<Value>, APIError>) -> Check {
        switch result {
        case .success: Check(name: "filter \(name)", status: .ok, detail: "accepted")
        case .failure(let error) where error.status == 400:
            Check(name: "filter \(name)", status: .warning, detail: "refused (400): licprov falls back by itself — \(without): more requests, same results")
        case .failure(let error): Check(name: "filter \(name)", status: .warning, detail: "could not tell: \(error.description)")
        }
    }

    private func checkProduct(_ id: String, _ report: inout Report) async {
        switch await call({ () async throws(APIError) in try await client.product(id: id) }) {
        case .success(let answer):
            let product = answer.value
            report.checks.append(Check(name: "product", status: .ok, detail: "\(id) exists (\(product.name ?? id)\(product.totalLicenses.map { ", \($0) licenses" } ?? ""))"))
        case .failure(let error) where error.status == 404:
            report.checks.append(Check(name: "product", status: .failed, detail: "no product has the id \(id): every create for it would be refused"))
        case .failure(let error) where error.status == 403:
            report.checks.append(Check(name: "product", status: .warning, detail: "the token lacks product:read (403): cannot check \(id); creates will tell"))
        case .failure(let error):
            report.checks.append(Check(name: "product", status: .warning, detail: "could not check \(id): \(error.description)"))
        }
    }

    // MARK: the write probe

    /// What the probe file holds: enough to find the license again.
    struct ProbeIntent: Codable {
        var apiURL: String
        var markerKey: String
        var marker: String
        var licenseID: String?
    }

    private func probe(_ productID: String, _ report: inout Report) async {
        let marker = "lp-doctor-\(UUID().uuidString.lowercased())"
        var intent = ProbeIntent(apiURL: client.baseURL.description, markerKey: options.markerKey, marker: marker)
        do { try Self.write(intent, to: options.probeFile) } catch {
            report.checks.append(Check(name: "write probe", status: .failed, detail: "cannot record the probe's intent in \(options.probeFile) (\(error.localizedDescription)); nothing was created"))
            return
        }
        var body = LicenseRequest(productId: productID)
        body.metadata = [LicenseMetadata(key: options.markerKey, value: marker)]
        let sent = ContinuousClock.now
        let created = await call({ () async throws(APIError) in try await client.createLicense(body) })
        var licenseID: String?
        switch created {
        case .success(let answer):
            licenseID = answer.value.id
            intent.licenseID = answer.value.id
            try? Self.write(intent, to: options.probeFile)
        case .failure(let error) where error.status != nil && error.outcome != .ambiguous:
            try? FileManager.default.removeItem(atPath: options.probeFile)
            report.checks.append(Check(name: "write probe", status: .failed, detail: "the probe license was refused: \(error.description)"))
            return
        case .failure:
            break  // a lost answer: the list settles whether it was made
        }
        let answered = ContinuousClock.now
        // Poll the list as licprov's lookups do, five a second (25 of a window's 50), until the probe
        // shows: it showed by the answer of the poll that found it.
        var shownAt: ContinuousClock.Instant?
        while ContinuousClock.now - answered < options.lagLimit {
            let query = LicenseQuery(metadataKey: options.markerKey, metadataValue: marker)
            let polled = ContinuousClock.now
            if case .success(let answer) = await call(paced: false, { () async throws(APIError) in try await client.findLicenses(query, page: 1, limit: 100) }),
               let found = answer.value.first(where: { $0.metadataValue(forKey: options.markerKey) == marker }) {
                shownAt = ContinuousClock.now
                licenseID = found.id
                break
            }
            try? await Task.sleep(until: polled + .milliseconds(200), clock: .continuous)
        }
        guard let licenseID else {
            report.checks.append(Check(name: "search lag", status: .warning, detail: "the probe's create got no answer and no license showed in \(options.lagLimit); the next doctor deletes it if it appears"))
            return
        }
        if let shownAt {
            // From the create's answer: a lookup goes --reconcile-delay after an ambiguous answer.
            let lag = Int(((shownAt - answered).secondsValue * 1000).rounded())
            report.searchLagMilliseconds = lag
            let recommended = max(RunConfiguration.defaultReconcileDelay, (Double(lag) / 1000 * 2 * 2).rounded(.up) / 2)
            report.recommendedReconcileDelay = recommended
            let slow = Double(lag) / 1000 >= RunConfiguration.defaultReconcileDelay
            report.checks.append(Check(name: "search lag", status: slow ? .warning : .ok,
                                       detail: "the probe license showed in the list \(lag) ms after its create was answered (\(Int(((answered - sent).secondsValue * 1000).rounded())) ms to create); "
                                           + "use --reconcile-delay \(Self.seconds(recommended))\(slow ? " (the default \(Self.seconds(RunConfiguration.defaultReconcileDelay)) is too short for this account)" : "")"))
        } else {
            report.checks.append(Check(name: "search lag", status: .warning, detail: "the probe license \(licenseID) did not show in the list within \(options.lagLimit): lookups cannot settle lost answers on this account"))
        }
        if await delete(licenseID) {
            try? FileManager.default.removeItem(atPath: options.probeFile)
            report.checks.append(Check(name: "write probe", status: .ok, detail: "created license \(licenseID) and deleted it again"))
        } else {
            report.checks.append(Check(name: "write probe", status: .warning, detail: "could not delete the probe license \(licenseID); the next doctor tries again (\(options.probeFile))"))
        }
    }

    /// A probe an earlier doctor left (killed between its create and its delete): found by its
    /// marker and deleted.
    private func settleLeftoverProbe(_ report: inout Report) async {
        guard let data = FileManager.default.contents(atPath: options.probeFile),
              let intent = try? JSONDecoder().decode(ProbeIntent.self, from: data) else { return }
        guard intent.apiURL == client.baseURL.description else {
            report.checks.append(Check(name: "earlier probe", status: .warning, detail: "\(options.probeFile) holds a probe of \(intent.apiURL), not this API; left alone"))
            return
        }
        let query = LicenseQuery(metadataKey: intent.markerKey, metadataValue: intent.marker)
        guard case .success(let answer) = await call({ () async throws(APIError) in try await client.findLicenses(query, page: 1, limit: 100) }) else {
            report.checks.append(Check(name: "earlier probe", status: .warning, detail: "could not look up the probe an earlier doctor left (\(options.probeFile)); tried again next time"))
            return
        }
        var ids = Set(answer.value.filter { $0.metadataValue(forKey: intent.markerKey) == intent.marker }.map(\.id))
        if let id = intent.licenseID { ids.insert(id) }
        var deleted = 0
        for id in ids.sorted() where await delete(id) { deleted += 1 }
        guard deleted == ids.count else {
            report.checks.append(Check(name: "earlier probe", status: .warning, detail: "could not delete the probe license an earlier doctor left; tried again next time"))
            return
        }
        try? FileManager.default.removeItem(atPath: options.probeFile)
        report.checks.append(Check(name: "earlier probe", status: .ok, detail: ids.isEmpty
            ? "an earlier doctor was stopped before its probe was made; nothing to delete"
            : "deleted the probe license an earlier doctor left (\(ids.sorted().joined(separator: ", ")))"))
    }

    /// Deletes a license; gone already counts as deleted. A lost answer is settled by reading it.
    private func delete(_ id: String) async -> Bool {
        for _ in 0..<3 {
            switch await call({ () async throws(APIError) in try await client.deleteLicense(id: id) }) {
            case .success: return true
            case .failure(let error) where error.status == 404: return true
            case .failure(let error) where error.status != nil && error.status != 429 && (error.status ?? 0) < 500: return false
            case .failure:
                if case .failure(let error) = await call({ () async throws(APIError) in try await client.license(id: id) }), error.status == 404 { return true }
            }
        }
        return false
    }

    private static func write(_ intent: ProbeIntent, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let data = try JSONEncoder().encode(intent)
        // Durable before the create goes: a crash after it leaves the intent for the next doctor.
        let temporary = path + ".tmp"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard descriptor >= 0 else { throw CocoaError(.fileWriteNoPermission) }
        let written = data.withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress, $0.count) }
        let synced = fsync(descriptor)
        close(descriptor)
        guard written == data.count, synced == 0, rename(temporary, path) == 0 else { throw CocoaError(.fileWriteUnknown) }
    }

    // MARK: requests and what they said

    /// One request, paced, its headers kept. A 429 is no finding about what was asked: the
    /// request waits its `Retry-After` (at most 10 s) and goes again, five times at most.
    private func call<Value: Sendable>(paced: Bool = true, _ request: () async throws(APIError) -> CryptlexClient.Answer<Value>) async -> Result<CryptlexClient.Answer<Value>, APIError> {
        if paced { try? await Task.sleep(for: options.pace) }
        var throttled = 0
        while true {
            let sent = Date()
            do {
                let answer = try await request()
                await log.add(Exchange(sent: sent, answered: Date(), rateLimit: answer.rateLimit))
                return .success(answer)
            } catch {
                if error.status != nil { await log.add(Exchange(sent: sent, answered: Date(), rateLimit: error.rateLimit, refused: error.status == 429)) }
                guard error.status == 429, throttled < 5 else { return .failure(error) }
                throttled += 1
                try? await Task.sleep(for: min(error.rateLimit.retryAfter ?? .seconds(1), .seconds(10)))
            }
        }
    }
}

/// The doctor's answers, gathered for the rate-limit analysis.
private actor ExchangeLog {
    private var exchanges: [AccountDoctor.Exchange] = []
    func add(_ exchange: AccountDoctor.Exchange) { exchanges.append(exchange) }
    func all() -> [AccountDoctor.Exchange] { exchanges }
}

import CryptlexAPI
import CryptlexModels
import Foundation
import Provisioning
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
        switch await call({ () async throws(APIError) in
            try await client.findLicenses(LicenseQuery(), page: 1, limit: 1)
        }) {
        case .success:
            report.checks.append(Check(name: "token", status: .ok, detail: "accepted (GET /v3/licenses answered 200)"))
        case .failure(let error) where error.status == nil:
            report.unreachable = true
            report.checks.append(
                Check(
                    name: "api", status: .failed,
                    detail: "cannot reach \(client.baseURL): \(error.failure.transportDetail ?? error.description)"))
            return report
        case .failure(let error) where error.status == 401:
            report.accessDenied = true
            report.checks.append(
                Check(
                    name: "token", status: .failed, detail: "refused (401): check CRYPTLEX_ACCESS_TOKEN or --token-file"
                ))
            return report
        case .failure(let error) where error.status == 403:
            report.accessDenied = true
            report.checks.append(
                Check(
                    name: "license:read", status: .failed,
                    detail: "the token lacks the scope license:read (403): licprov cannot find licenses"))
            return report
        case .failure(let error):
            report.checks.append(
                Check(name: "token", status: .warning, detail: "the first list answered \(error.description)"))
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
            report.checks.append(
                Check(
                    name: "license:write", status: .ok,
                    detail:
                        "may create and change licenses (a create with an empty body was refused with 400; nothing was created)"
                ))
        case .failure(let error) where error.status == 403:
            report.accessDenied = true
            report.checks.append(
                Check(
                    name: "license:write", status: .failed,
                    detail: "the token lacks the scope license:write (403): licprov cannot create or change licenses"))
        case .failure(let error):
            report.checks.append(
                Check(
                    name: "license:write", status: .warning,
                    detail: "could not tell: an empty create answered \(error.description)"))
        case .success(let answer):
            _ = await call({ () async throws(APIError) in try await client.deleteLicense(id: answer.value.id) })
            report.checks.append(
                Check(
                    name: "license:write", status: .warning,
                    detail:
                        "an empty create made license \(answer.value.id) (deleted again): the API does not check bodies as published"
                ))
        }
        switch await call({ () async throws(APIError) in try await client.createUser(body: Array("{}".utf8)) }) {
        case .failure(let error) where error.status == 400:
            report.checks.append(
                Check(
                    name: "user:write", status: .ok,
                    detail: "may create customers (an empty create was refused with 400; nothing was created)"))
        case .failure(let error) where error.status == 403:
            report.checks.append(
                Check(
                    name: "user:write", status: .warning,
                    detail:
                        "the token lacks user:write (403): a row whose customer the account does not have fails; add the scope or pass --no-create-users"
                ))
        case .failure(let error):
            report.checks.append(
                Check(
                    name: "user:write", status: .warning,
                    detail: "could not tell: an empty create answered \(error.description)"))
        case .success(let answer):
            report.checks.append(
                Check(
                    name: "user:write", status: .warning,
                    detail: "an empty create made user \(answer.value.id): the API does not check bodies as published"))
        }
    }

    /// Each list filter licprov relies on, with values that match nothing.
    private func checkFilters(_ report: inout Report) async {
        let nothing = [
            "licprov-doctor-\(UUID().uuidString.lowercased())", "licprov-doctor-\(UUID().uuidString.lowercased())",
        ]
        let licenses: [(name: String, query: LicenseQuery, without: String)] = [
            (
                "metadata.value[in]", LicenseQuery(metadataKey: options.markerKey, metadataValues: nothing),
                "lost answers and entries left in flight are looked up one a request"
            ),
            (
                "metadata.value[sw]",
                {
                    var query = LicenseQuery(metadataKey: options.markerKey)
                    query.metadataValuePrefix = nothing[0]
                    return query
                }(),
                "audit lists the journal's markers by value (one request per 100, or per license without in) and cannot find unknown licenses"
            ),
            (
                "id[in]",
                {
                    var query = LicenseQuery()
                    query.ids = nothing
                    return query
                }(), "change targets and audit read licenses one at a time by id"
            ),
            (
                "key[in]",
                {
                    var query = LicenseQuery()
                    query.keys = nothing
                    return query
                }(), "change targets by key are looked up one a request"
            ),
        ]
        for filter in licenses {
            let query = filter.query
            report.checks.append(
                Self.filterCheck(
                    filter.name, filter.without,
                    await call({ () async throws(APIError) in try await client.findLicenses(query, page: 1, limit: 1) })
                ))
        }
        let emails = nothing.map { $0 + "@example.invalid" }.joined(separator: ",")
        let users = await call({ () async throws(APIError) in
            try await client.listUsers(filter: ("email[in]", emails))
        })
        if case .failure(let error) = users, error.status == 403 {
            report.checks.append(
                Check(
                    name: "user:read", status: .warning,
                    detail: "the token lacks user:read (403): rows with a customer email fail"))
        } else {
            report.checks.append(Self.filterCheck("email[in]", "customers are looked up one a request", users))
        }
    }

    private static func filterCheck<Value>(
        _ name: String, _ without: String, _ result: Result<CryptlexClient.Answer<Value>, APIError>
    ) -> Check {
        switch result {
        case .success: Check(name: "filter \(name)", status: .ok, detail: "accepted")
        case .failure(let error) where error.status == 400:
            Check(
                name: "filter \(name)", status: .warning,
                detail: "refused (400): licprov falls back by itself — \(without): more requests, same results")
        case .failure(let error):
            Check(name: "filter \(name)", status: .warning, detail: "could not tell: \(error.description)")
        }
    }

    private func checkProduct(_ id: String, _ report: inout Report) async {
        switch await call({ () async throws(APIError) in try await client.product(id: id) }) {
        case .success(let answer):
            let product = answer.value
            report.checks.append(
                Check(
                    name: "product", status: .ok,
                    detail:
                        "\(id) exists (\(product.name ?? id)\(product.totalLicenses.map { ", \($0) licenses" } ?? ""))")
            )
        case .failure(let error) where error.status == 404:
            report.checks.append(
                Check(
                    name: "product", status: .failed,
                    detail: "no product has the id \(id): every create for it would be refused"))
        case .failure(let error) where error.status == 403:
            report.checks.append(
                Check(
                    name: "product", status: .warning,
                    detail: "the token lacks product:read (403): cannot check \(id); creates will tell"))
        case .failure(let error):
            report.checks.append(
                Check(name: "product", status: .warning, detail: "could not check \(id): \(error.description)"))
        }
    }

    // MARK: requests and what they said

    /// One request, paced, its headers kept. A 429 is no finding about what was asked: the
    /// request waits its `Retry-After` (at most 10 s) and goes again, five times at most.
    func call<Value: Sendable>(paced: Bool = true, _ request: () async throws(APIError) -> CryptlexClient.Answer<Value>)
        async -> Result<CryptlexClient.Answer<Value>, APIError>
    {
        if paced { try? await Task.sleep(for: options.pace) }
        var throttled = 0
        while true {
            let sent = Date()
            do {
                let answer = try await request()
                await log.add(Exchange(sent: sent, answered: Date(), rateLimit: answer.rateLimit))
                return .success(answer)
            } catch {
                if error.status != nil {
                    await log.add(
                        Exchange(sent: sent, answered: Date(), rateLimit: error.rateLimit, refused: error.status == 429)
                    )
                }
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

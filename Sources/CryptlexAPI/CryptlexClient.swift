import CryptlexModels
import Foundation
import Logging

/// A typed client for the Cryptlex Web API v3 operations licprov uses: list and create licenses and
/// users; get, update, renew, set the expiry of and delete one license.
///
/// Every failure comes back as one ``APIError`` whose ``APIError/outcome`` says what the caller
/// may do next; every answer carries the rate-limit headers. The token lives only in this value
/// and in the `Authorization` header; it is never logged or put into an error.
package struct CryptlexClient: Sendable {
    /// A decoded answer plus what it said about the rate limit.
    package struct Answer<Value: Sendable>: Sendable {
        package var value: Value
        package var status: Int
        package var rateLimit: RateLimitStatus

        /// The same answer with its value transformed.
        package func map<T: Sendable>(_ transform: (Value) -> T) -> Answer<T> {
            Answer<T>(value: transform(value), status: status, rateLimit: rateLimit)
        }
    }

    package let baseURL: CryptlexBaseURL
    private let token: String
    private let transport: any HTTPTransport
    private let requestTimeout: Duration
    private let logger: Logger
    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    /// - Parameters:
    ///   - requestTimeout: the deadline of one request, from sending to the last byte of the answer.
    package init(
        baseURL: CryptlexBaseURL, token: String, transport: any HTTPTransport,
        requestTimeout: Duration = .seconds(30), logger: Logger = Logger(label: "licprov.api")
    ) {
        self.baseURL = baseURL
        self.token = token
        self.transport = transport
        self.requestTimeout = requestTimeout
        self.logger = logger
    }

    /// The JSON body licprov sends for a license, encoded from the typed request (`JSONEncoder`).
    package static func encodedBody(_ request: LicenseRequest) -> [UInt8] {
        LicenseOperation.create(request).wireBody()
    }

    /// `POST /v3/licenses`.
    package func createLicense(_ request: LicenseRequest) async throws(APIError) -> Answer<License> {
        try await send("POST", "/v3/licenses", query: nil, body: Self.encodedBody(request), expecting: License.self)
    }

    /// `POST /v3/licenses` with a body encoded for this send (the request with its linked ids).
    package func createLicense(body: [UInt8]) async throws(APIError) -> Answer<License> {
        try await send("POST", "/v3/licenses", query: nil, body: body, expecting: License.self)
    }

    /// One page of `GET /v3/licenses` (`page` from 1, `limit` 1–100).
    package func findLicenses(_ query: LicenseQuery, page: Int = 1, limit: Int = 100) async throws(APIError) -> Answer<
        [License]
    > {
        try await send(
            "GET", "/v3/licenses", query: QueryEncoding.encode(query.items(page: page, limit: limit)), body: nil,
            expecting: [License].self)
    }

    /// `GET /v3/licenses/{id}`.
    package func license(id: String) async throws(APIError) -> Answer<License> {
        try await send("GET", "/v3/licenses/\(Self.segment(id))", query: nil, body: nil, expecting: License.self)
    }

    /// `GET /v3/licenses/{id}`, every field kept.
    package func licenseSnapshot(id: String) async throws(APIError) -> Answer<LicenseSnapshot> {
        try await send(
            "GET", "/v3/licenses/\(Self.segment(id))", query: nil, body: nil, expecting: LicenseSnapshot.self)
    }

    /// One page of `GET /v3/licenses`, every field of each license kept.
    package func findLicenseSnapshots(_ query: LicenseQuery, page: Int = 1, limit: Int = 100) async throws(APIError)
        -> Answer<[LicenseSnapshot]>
    {
        try await send(
            "GET", "/v3/licenses", query: QueryEncoding.encode(query.items(page: page, limit: limit)), body: nil,
            expecting: [LicenseSnapshot].self)
    }

    /// `PATCH /v3/licenses/{id}` with a `LicenseUpdateRequestModel` body already encoded.
    package func updateLicense(id: String, body: [UInt8]) async throws(APIError) -> Answer<License> {
        try await send("PATCH", "/v3/licenses/\(Self.segment(id))", query: nil, body: body, expecting: License.self)
    }

    /// `POST /v3/licenses/{id}/renew`: extends `expiresAt` by the subscription interval. Not idempotent.
    package func renewLicense(id: String) async throws(APIError) -> Answer<License> {
        try await send("POST", "/v3/licenses/\(Self.segment(id))/renew", query: nil, body: nil, expecting: License.self)
    }

    /// `PATCH /v3/licenses/{id}/expires-at`; nil makes the license perpetual.
    package func setExpiry(id: String, expiresAt: String?) async throws(APIError) -> Answer<License> {
        let body = Array(
            (try? JSONSerialization.data(withJSONObject: ["expiresAt": expiresAt.map { $0 as Any } ?? NSNull()]))
                ?? Data())
        return try await send(
            "PATCH", "/v3/licenses/\(Self.segment(id))/expires-at", query: nil, body: body, expecting: License.self)
    }

    /// `DELETE /v3/licenses/{id}` (204, no body).
    package func deleteLicense(id: String) async throws(APIError) -> Answer<NoContent> {
        try await send("DELETE", "/v3/licenses/\(Self.segment(id))", query: nil, body: nil, expecting: NoContent.self)
    }

    /// An id as one path segment (percent-encoded: an id from a file must not add a segment).
    static func segment(_ id: String) -> String {
        id.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? id
    }

    /// `POST /v3/users`. The password goes on the wire and nowhere else.
    package func createUser(_ request: UserRequest) async throws(APIError) -> Answer<User> {
        let body = Array((try? Self.encoder.encode(request)) ?? Data())
        return try await send("POST", "/v3/users", query: nil, body: body, expecting: User.self)
    }

    /// `GET /v3/users?email[eq]=…`, keeping only exact case-insensitive matches.
    /// Users with any of `emails` (`email[in]`, compared case-insensitively; no email may hold a
    /// comma): one page of up to 100.
    package func findUsers(emails: [String], page: Int = 1) async throws(APIError) -> Answer<[User]> {
        try await findUsers(("email[in]", emails.joined(separator: ",")), matching: emails, page: page)
    }

    package func findUsers(email: String) async throws(APIError) -> Answer<[User]> {
        try await findUsers(("email[eq]", email), matching: [email], page: 1)
    }

    /// `GET /v3/users` with one email filter; keeps the users whose email is one of `emails`,
    /// compared case-insensitively as Cryptlex compares them.
    private func findUsers(_ filter: (String, String), matching emails: [String], page: Int) async throws(APIError)
        -> Answer<[User]>
    {
        let wanted = Set(emails.map { $0.lowercased() })
        var answer = try await send(
            "GET", "/v3/users", query: QueryEncoding.encode([filter, ("page", String(page)), ("limit", "100")]),
            body: nil, expecting: [User].self)
        answer.value = answer.value.filter { wanted.contains($0.email.lowercased()) }
        return answer
    }

    /// `POST /v3/users` with a body as given (`licprov doctor` sends `{}`, which cannot create anything).
    package func createUser(body: [UInt8]) async throws(APIError) -> Answer<User> {
        try await send("POST", "/v3/users", query: nil, body: body, expecting: User.self)
    }

    /// `POST /v3/organizations`.
    package func createOrganization(_ request: OrganizationRequest) async throws(APIError) -> Answer<DirectoryRecord> {
        let body = Array((try? Self.encoder.encode(request)) ?? Data())
        return try await send("POST", "/v3/organizations", query: nil, body: body, expecting: DirectoryRecord.self)
    }

    /// `POST /v3/resellers`.
    package func createReseller(_ request: ResellerRequest) async throws(APIError) -> Answer<DirectoryRecord> {
        let body = Array((try? Self.encoder.encode(request)) ?? Data())
        return try await send("POST", "/v3/resellers", query: nil, body: body, expecting: DirectoryRecord.self)
    }

    /// One page of organizations named any of `names` (`name[in]`; none may hold a comma; one
    /// name goes as `name[eq]`), under `resellerId` when given.
    package func findOrganizations(names: [String], resellerId: String? = nil, page: Int = 1) async throws(APIError)
        -> Answer<[DirectoryRecord]>
    {
        var items = [Self.nameFilter(names)]
        if let resellerId { items.append(("resellerId[eq]", resellerId)) }
        return try await send(
            "GET", "/v3/organizations",
            query: QueryEncoding.encode(items + [("page", String(page)), ("limit", "100")]),
            body: nil, expecting: [DirectoryRecord].self)
    }

    /// One page of resellers named any of `names` (as ``findOrganizations(names:resellerId:page:)``).
    package func findResellers(names: [String], page: Int = 1) async throws(APIError) -> Answer<[DirectoryRecord]> {
        try await send(
            "GET", "/v3/resellers",
            query: QueryEncoding.encode([Self.nameFilter(names), ("page", String(page)), ("limit", "100")]),
            body: nil, expecting: [DirectoryRecord].self)
    }

    /// One page of organizations, or resellers, with any of these ids (`id[in]`): the names a
    /// pulled license shows, 100 ids a request.
    package func findDirectoryRecords(resellers: Bool, ids: [String], page: Int = 1) async throws(APIError)
        -> Answer<[DirectoryRecord]>
    {
        try await send(
            "GET", resellers ? "/v3/resellers" : "/v3/organizations",
            query: QueryEncoding.encode([
                ("id[in]", ids.joined(separator: ",")), ("page", String(page)), ("limit", "100"),
            ]),
            body: nil, expecting: [DirectoryRecord].self)
    }

    /// One page of users with any of these ids (`id[in]`): the owners of pulled licenses the list
    /// did not show whole.
    package func findUsers(ids: [String], page: Int = 1) async throws(APIError) -> Answer<[User]> {
        try await send(
            "GET", "/v3/users",
            query: QueryEncoding.encode([
                ("id[in]", ids.joined(separator: ",")), ("page", String(page)), ("limit", "100"),
            ]),
            body: nil, expecting: [User].self)
    }

    private static func nameFilter(_ names: [String]) -> (String, String) {
        names.count == 1 ? ("name[eq]", names[0]) : ("name[in]", names.joined(separator: ","))
    }

    /// `GET /v3/products/{id}` (scope `product:read`).
    package func product(id: String) async throws(APIError) -> Answer<Product> {
        try await send("GET", "/v3/products/" + Self.segment(id), query: nil, body: nil, expecting: Product.self)
    }

    /// `GET /v3/users` with one raw filter, one page (`licprov doctor` asks whether `email[in]` is accepted).
    package func listUsers(filter: (String, String), limit: Int = 1) async throws(APIError) -> Answer<[User]> {
        try await send(
            "GET", "/v3/users", query: QueryEncoding.encode([filter, ("page", "1"), ("limit", String(limit))]),
            body: nil, expecting: [User].self)
    }

    /// Releases the transport's connections.
    package func shutdown() async throws { try await transport.shutdown() }

    private func send<Value: Decodable & Sendable>(
        _ method: String, _ path: String, query: String?, body: [UInt8]?, expecting: Value.Type
    ) async throws(APIError) -> Answer<Value> {
        var headers = [("Authorization", "Bearer \(token)"), ("Accept", "application/json"), ("User-Agent", "licprov")]
        if body != nil { headers.append(("Content-Type", "application/json")) }
        let request = TransportRequest(
            method: method, url: baseURL.url(path: path, query: query), headers: headers, body: body,
            timeout: requestTimeout)
        let started = ContinuousClock.now
        let response: TransportResponse
        do {
            response = try await transport.send(request)
        } catch {
            logger.debug(
                "request failed", metadata: ["method": "\(method)", "path": "\(path)", "error": "\(error.detail)"])
            throw APIError(
                method: method, path: path, failure: .transport(error),
                outcome: APIError.outcome(for: error, method: method), rateLimit: RateLimitStatus(), bodyExcerpt: "")
        }
        let rateLimit = RateLimitStatus(header: response.header)
        logger.debug(
            "request",
            metadata: [
                "method": "\(method)", "path": "\(path)", "status": "\(response.status)",
                "elapsed": "\(ContinuousClock.now - started)",
                "rateRemaining": "\(rateLimit.remaining.map(String.init) ?? "-")",
            ])
        let excerpt = String(decoding: response.body.prefix(512), as: UTF8.self)
        guard (200..<300).contains(response.status) else {
            let (message, code) = APIError.parseErrorBody(response.body, status: response.status)
            throw APIError(
                method: method, path: path, failure: .http(status: response.status, code: code, message: message),
                outcome: APIError.outcome(forStatus: response.status, method: method, rateLimit: rateLimit),
                rateLimit: rateLimit, bodyExcerpt: excerpt)
        }
        if Value.self == NoContent.self, let value = NoContent() as? Value {
            return Answer(value: value, status: response.status, rateLimit: rateLimit)
        }
        do {
            let value = try JSONDecoder().decode(Value.self, from: Data(response.body))
            return Answer(value: value, status: response.status, rateLimit: rateLimit)
        } catch {
            throw APIError(
                method: method, path: path,
                failure: .undecodable(
                    status: response.status, reason: String(describing: error).prefix(200).description),
                outcome: method == "GET" ? .retryable(after: nil) : .ambiguous, rateLimit: rateLimit,
                bodyExcerpt: excerpt)
        }
    }
}

/// The answer of an operation that returns no body (204).
package struct NoContent: Decodable, Sendable, Equatable {
    package init() {}
}

import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The `/v3` routes: every request passes the same gate (count, rate limit, token, faults) and
/// then reaches its operation.
extension CryptlexEmulator {
    func addRoutes(to router: Router<EmulatorContext>) {
        router.post("/v3/licenses") { request, context in
            try await self.serve(request, context, counting: .licenseCreate) { body in
                let fields = try self.decodeBody(body, schema: "LicenseRequestModel")
                let license = try await self.store.createLicense(fields, nowTicks: self.clock.nowTicks)
                return (.created, license)
            }
        }
        router.get("/v3/licenses") { request, context in
            try await self.serve(request, context) { _ in
                let filter = try LicenseFilter(query: Self.queryItems(request.uri.query))
                let lag = Int64(await self.faults.current().lookupLagMilliseconds) * 10_000
                return (.ok, .array(await self.store.findLicenses(filter, visibleBefore: self.clock.nowTicks - lag)))
            }
        }
        router.get("/v3/licenses/:id") { request, context in
            try await self.serve(request, context) { _ in
                (.ok, try await self.store.license(id: context.parameters.get("id") ?? ""))
            }
        }
        router.patch("/v3/licenses/:id") { request, context in
            try await self.serve(request, context) { body in
                let fields = try self.decodeBody(body, schema: "LicenseUpdateRequestModel")
                return (
                    .ok,
                    try await self.store.updateLicense(
                        id: context.parameters.get("id") ?? "", fields, nowTicks: self.clock.nowTicks)
                )
            }
        }
        router.delete("/v3/licenses/:id") { request, context in
            try await self.serve(request, context) { _ in
                try await self.store.deleteLicense(id: context.parameters.get("id") ?? "")
                return (.noContent, .null)
            }
        }
        router.post("/v3/licenses/:id/renew") { request, context in
            try await self.serve(request, context) { _ in
                (
                    .ok,
                    try await self.store.renewLicense(
                        id: context.parameters.get("id") ?? "", nowTicks: self.clock.nowTicks)
                )
            }
        }
        router.patch("/v3/licenses/:id/expires-at") { request, context in
            try await self.serve(request, context) { body in
                let fields = try self.decodeBody(body, schema: "LicenseExpiresAtUpdateRequestModel")
                return (
                    .ok,
                    try await self.store.setExpiry(
                        id: context.parameters.get("id") ?? "", fields, nowTicks: self.clock.nowTicks)
                )
            }
        }
        router.get("/v3/products/:id") { request, context in
            try await self.serve(request, context) { _ in
                (.ok, try await self.store.product(id: context.parameters.get("id") ?? ""))
            }
        }
        router.post("/v3/users") { request, context in
            try await self.serve(request, context, counting: .userCreate) { body in
                let fields = try self.decodeBody(body, schema: "UserRequestModel")
                return (.created, try await self.store.createUser(fields, nowTicks: self.clock.nowTicks))
            }
        }
        router.get("/v3/users") { request, context in
            try await self.serve(request, context) { _ in
                var email: [TextCondition] = []
                var id: [TextCondition] = []
                var page = 1
                var limit = 10
                for (name, value) in Self.queryItems(request.uri.query) {
                    if let condition = try TextCondition.parse(
                        name: name, field: "email", value: value, allowed: TextCondition.text,
                        caseInsensitive: true)
                    {
                        email.append(condition)
                        continue
                    }
                    if let condition = try TextCondition.parse(
                        name: name, field: "id", value: value, allowed: TextCondition.identity)
                    {
                        id.append(condition)
                        continue
                    }
                    switch name {
                    case "page", "limit":
                        try ListPage.read(name, value, page: &page, limit: &limit)
                    default: throw Self.badRequest("The query parameter '\(name)' is not supported by the emulator.")
                    }
                }
                return (.ok, .array(await self.store.findUsers(email: email, id: id, page: page, limit: limit)))
            }
        }
        addDirectoryRoutes(to: router)
    }

    /// The gate every `/v3` request passes, then the operation, then any fault that strikes
    /// after processing.
    func serve(
        _ request: Request,
        _ context: EmulatorContext,
        counting route: EmulatorStore.CountedRoute? = nil,
        operation: (ByteBuffer) async throws -> (HTTPResponse.Status, JSONValue)
    ) async throws -> Response {
        await store.countArrival(route)
        var headers = HTTPFields()
        if let rateLimiter, await !rateLimiter.paused {
            switch await rateLimiter.admit(client: context.clientIP, nowTicks: self.clock.nowTicks) {
            case .refused(let retryAfter):
                await store.count { $0.rateLimited += 1 }
                var refusal = HTTPFields()
                refusal[.retryAfter] = String(retryAfter)
                refusal[.contentType] = "text/plain; charset=utf-8"
                return Response(
                    status: .tooManyRequests, headers: refusal,
                    body: .init(byteBuffer: ByteBuffer(string: "Too Many Requests")))
            case .allowed(let remaining, let resetTicks):
                headers[Self.rateLimitLimit] = "\(rateLimiter.windowSeconds)s"
                headers[Self.rateLimitRemaining] = String(remaining)
                headers[Self.rateLimitReset] = RFC3339.format(ticks: resetTicks)
            }
        }
        let authorization = request.headers[.authorization]
        if let readOnly = configuration.readOnlyToken, authorization == "Bearer \(readOnly)", request.method != .get {
            await store.count { $0.forbidden += 1 }
            return Self.errorResponse(
                .forbidden, "The access token lacks the scope this operation needs.", code: nil, headers: headers)
        }
        guard
            authorization == "Bearer \(configuration.token)"
                || (configuration.readOnlyToken.map { authorization == "Bearer \($0)" } ?? false)
        else {
            await store.count { $0.unauthorized += 1 }
            return Self.errorResponse(.unauthorized, "Invalid or missing access token.", code: nil, headers: headers)
        }
        if request.method == .get, !configuration.refusedOperators.isEmpty {
            for (name, _) in Self.queryItems(request.uri.query) {
                guard let open = name.lastIndex(of: "["), name.hasSuffix("]") else { continue }
                let op = String(name[name.index(after: open)..<name.index(before: name.endIndex)])
                if configuration.refusedOperators.contains(op) {
                    await store.count { $0.badRequests += 1 }
                    return Self.errorResponse(
                        .badRequest, "The operator '\(op)' is not supported.", code: nil, headers: headers)
                }
            }
        }
        let plan = await faults.plan(method: request.method.rawValue, path: request.uri.path)
        if let hold = plan.hold {
            // Held until the settings change or the hold's time is up, then dropped unprocessed.
            await store.count { $0.faults["hold", default: 0] += 1 }
            let until = ContinuousClock.now + .seconds(hold.seconds)
            while await faults.isHolding(hold.generation), ContinuousClock.now < until {
                try await Task.sleep(for: .milliseconds(10))
            }
            await context.resetConnection()
            throw HTTPError(.internalServerError)
        }
        if plan.delayMilliseconds > 0 { try await Task.sleep(for: .milliseconds(plan.delayMilliseconds)) }
        if let fault = plan.fault {
            await store.count { $0.faults[fault.rawValue, default: 0] += 1 }
        }
        let body = try await request.body.collect(upTo: context.maxUploadSize)
        switch plan.fault {
        case .reset?:
            await context.resetConnection()
            throw HTTPError(.internalServerError)
        case .http429?:
            var refusal = HTTPFields()
            refusal[.retryAfter] = String(plan.retryAfterSeconds)
            refusal[.contentType] = "text/plain; charset=utf-8"
            return Response(
                status: .tooManyRequests, headers: refusal,
                body: .init(byteBuffer: ByteBuffer(string: "Too Many Requests")))
        case .http500?:
            return Self.errorResponse(
                .internalServerError, "An unexpected error occurred.", code: nil, headers: headers)
        case .http502?:
            return Self.htmlResponse(.badGateway, headers: headers)
        case .http503?:
            headers[.retryAfter] = String(plan.retryAfterSeconds)
            return Self.htmlResponse(.serviceUnavailable, headers: headers)
        default:
            break
        }
        let response: Response
        do {
            let (status, value) = try await operation(body)
            response =
                status == .noContent
                ? Response(status: status, headers: headers)
                : Response(
                    status: status, headers: Self.jsonHeaders(headers),
                    body: .init(byteBuffer: ByteBuffer(bytes: value.serialized())))
        } catch let rejection as EmulatorStore.Rejection {
            await store.count {
                switch rejection.status {
                case 409: $0.conflicts += 1
                case 404: $0.notFound += 1
                default: $0.badRequests += 1
                }
            }
            response = Self.errorResponse(
                .init(code: rejection.status), rejection.message, code: rejection.code, headers: headers)
        }
        switch plan.fault {
        case .lostResponse?:
            await context.resetConnection()
            throw HTTPError(.internalServerError)
        case .http504?:
            return Self.htmlResponse(.gatewayTimeout, headers: headers)
        default:
            return response
        }
    }

    func decodeBody(_ body: ByteBuffer, schema: String) throws(EmulatorStore.Rejection) -> [String: JSONValue] {
        guard let value = JSONValue.parse(body.readableBytesView) else {
            throw Self.badRequest("The request body is not valid JSON.")
        }
        let violations = validator.validate(value, against: schema)
        if let first = violations.first {
            let more =
                violations.count > 1
                ? " (and \(violations.count - 1) more: \(violations.dropFirst().prefix(3).map(\.description).joined(separator: "; ")))"
                : ""
            throw Self.badRequest("\(first)\(more)")
        }
        return value.objectValue ?? [:]
    }

    static func badRequest(_ message: String) -> EmulatorStore.Rejection {
        .init(status: 400, message: message, code: nil)
    }

    /// Query items with both names and values percent-decoded (`key%5Beq%5D` → `key[eq]`).
    static func queryItems(_ query: String?) -> [(String, String)] {
        guard let query, !query.isEmpty else { return [] }
        return query.split(separator: "&").map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ text: Substring) -> String {
                let spaced = text.replacingOccurrences(of: "+", with: " ")
                return spaced.removingPercentEncoding ?? spaced
            }
            return (decode(parts[0]), parts.count > 1 ? decode(parts[1]) : "")
        }
    }

    static let rateLimitLimit = HTTPField.Name("X-Rate-Limit-Limit")!
    static let rateLimitRemaining = HTTPField.Name("X-Rate-Limit-Remaining")!
    static let rateLimitReset = HTTPField.Name("X-Rate-Limit-Reset")!

    static func jsonHeaders(_ headers: HTTPFields) -> HTTPFields {
        var headers = headers
        headers[.contentType] = "application/json; charset=utf-8"
        return headers
    }

    static func errorResponse(_ status: HTTPResponse.Status, _ message: String, code: String?, headers: HTTPFields)
        -> Response
    {
        var fields: [String: JSONValue] = ["message": .string(message)]
        if let code { fields["code"] = .string(code) }
        return Response(
            status: status, headers: jsonHeaders(headers),
            body: .init(byteBuffer: ByteBuffer(bytes: JSONValue.object(fields).serialized())))
    }

    static func htmlResponse(_ status: HTTPResponse.Status, headers: HTTPFields) -> Response {
        var headers = headers
        headers[.contentType] = "text/html"
        let page =
            "<html><head><title>\(status.code) \(status.reasonPhrase)</title></head><body><center><h1>\(status.code) \(status.reasonPhrase)</h1></center></body></html>"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: page)))
    }
}

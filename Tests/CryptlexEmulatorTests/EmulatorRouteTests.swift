import CryptlexEmulator
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@Suite("Emulator routes over a live socket")
struct EmulatorRouteTests {
    static let auth: HTTPFields = [.authorization: "Bearer t", .contentType: "application/json"]

    static func withApp(
        _ configuration: EmulatorConfiguration = .init(token: "t", products: ["p1"], rateLimit: nil),
        _ body: @Sendable @escaping (any TestClientProtocol, CryptlexEmulator) async throws -> Void
    ) async throws {
        let emulator = try CryptlexEmulator(configuration: configuration)
        try await emulator.application(port: 0).test(.live) { client in try await body(client, emulator) }
    }

    static func post(_ client: any TestClientProtocol, _ path: String, _ json: String, headers: HTTPFields = auth)
        async throws -> TestResponse
    {
        try await client.execute(uri: path, method: .post, headers: headers, body: ByteBuffer(string: json))
    }

    static func message(_ response: TestResponse) throws -> String {
        let value = try JSONDecoder().decode(JSONValue.self, from: Data(buffer: response.body))
        return value.objectValue?["message"]?.stringValue ?? ""
    }

    /// Each kind of schema constraint, broken once: the answer is 400 and names the field.
    @Test(arguments: [
        (#"{}"#, "productId: is required"),
        (#"{"productId":""}"#, "productId: must not be empty"),
        (#"{"productId":"p1","allowedActivations":"3"}"#, "allowedActivations: must be an integer"),
        (#"{"productId":"p1","allowedActivations":1.5}"#, "allowedActivations: must be an integer"),
        (#"{"productId":"p1","allowedActivations":-2}"#, "allowedActivations: must be at least -1"),
        (#"{"productId":"p1","allowedActivations":2147483648}"#, "allowedActivations: must fit in 32 bits"),
        (#"{"productId":"p1","serverSyncInterval":179}"#, "serverSyncInterval: must be at least 180"),
        (#"{"productId":"p1","key":"TOO-SHORT"}"#, "key: must be at least 16 characters"),
        (
            #"{"productId":"p1","notes":"\#(String(repeating: "n", count: 4097))"}"#,
            "notes: must be at most 4096 characters"
        ),
        (
            #"{"productId":"p1","type":"floating"}"#,
            "type: must be one of node-locked, hosted-floating, on-premise-floating"
        ),
        (
            #"{"productId":"p1","subscriptionStartTrigger":"later"}"#,
            "subscriptionStartTrigger: must be one of creation, activation"
        ),
        (#"{"productId":"p1","expiresAt":"2024-13-01"}"#, "expiresAt: must be an RFC 3339 date-time"),
        (#"{"productId":"p1","revoked":"yes"}"#, "revoked: must be true or false"),
        (#"{"productId":"p1","tags":["a","b","c","d","e","f"]}"#, "tags: must have at most 5 items"),
        (#"{"productId":"p1","tags":"a"}"#, "tags: must be an array"),
        (#"{"productId":"p1","metadata":[{"key":"k"}]}"#, "metadata[0].value: is required"),
        (
            #"{"productId":"p1","metadata":[{"key":"k","value":"v","viewPermissions":["everyone"]}]}"#,
            "metadata[0].viewPermissions[0]: must be one of"
        ),
        (#"{"productId":"p1","allowedActivation":3}"#, "allowedActivation: is not a known field"),
        (#"{"productId":null}"#, "productId: must not be null"),
        (#"[1,2]"#, "must be an object"),
        (#"{"productId":"p1""#, "not valid JSON"),
    ])
    func aBrokenConstraintGets400NamingTheField(body: String, expected: String) async throws {
        try await Self.withApp { client, emulator in
            let response = try await Self.post(client, "/v3/licenses", body)
            #expect(response.status == .badRequest)
            let message = try Self.message(response)
            #expect(message.contains(expected), "\(message)")
            #expect(await emulator.store.allLicenses().isEmpty)
        }
    }

    @Test func userCreationChecksItsSchemaAndEmailUniqueness() async throws {
        try await Self.withApp { client, emulator in
            let short = try await Self.post(
                client, "/v3/users", #"{"email":"a@b.co","firstName":"A","password":"short"}"#)
            #expect(short.status == .badRequest)
            #expect(try Self.message(short).contains("password: must be at least 8 characters"))
            let bad = try await Self.post(
                client, "/v3/users", #"{"email":"not-an-email","firstName":"A","password":"long-enough"}"#)
            #expect(try Self.message(bad).contains("email: must be an email address"))
            let created = try await Self.post(
                client, "/v3/users", #"{"email":"A@b.co","firstName":"A","password":"long-enough"}"#)
            #expect(created.status == .created)
            let taken = try await Self.post(
                client, "/v3/users", #"{"email":"a@B.co","firstName":"B","password":"long-enough"}"#)
            #expect(taken.status == .conflict)
            let users = await emulator.store.allUsers()
            #expect(users.count == 1)
            #expect(users.first?.objectValue?["password"] == nil, "the emulator must not keep passwords")
        }
    }

    @Test func licensesEchoWhatWasSentWithGeneratedIdKeyAndSevenDigitTimestamps() async throws {
        try await Self.withApp { client, _ in
            let response = try await Self.post(
                client, "/v3/licenses",
                #"{"productId":"p1","allowedActivations":-1,"createdAt":"2020-02-29T12:00:00Z"}"#)
            #expect(response.status == .created)
            let license = try #require(
                try JSONDecoder().decode(JSONValue.self, from: Data(buffer: response.body)).objectValue)
            #expect(license["allowedActivations"] == .int(-1))
            #expect(license["createdAt"] == .string("2020-02-29T12:00:00.0000000Z"))
            #expect(license["id"]?.stringValue?.count == 36)
            #expect((license["key"]?.stringValue?.count ?? 0) >= 16)
            #expect(license["updatedAt"]?.stringValue?.range(of: #"\.\d{7}Z$"#, options: .regularExpression) != nil)
        }
    }

    @Test func lookupsFilterByEveryDocumentedParameter() async throws {
        try await Self.withApp(.init(token: "t", rateLimit: nil)) { client, _ in
            let user = try await Self.post(
                client, "/v3/users", #"{"email":"u@x.io","firstName":"U","password":"long-enough"}"#)
            let userID =
                try JSONDecoder().decode(JSONValue.self, from: Data(buffer: user.body)).objectValue?["id"]?.stringValue
                ?? ""
            _ = try await Self.post(
                client, "/v3/licenses",
                #"{"productId":"a","key":"KEY-AAAAAAAAAAAA-1","metadata":[{"key":"m","value":"1"}]}"#)
            _ = try await Self.post(
                client, "/v3/licenses",
                #"{"productId":"b","key":"KEY-AAAAAAAAAAAA-2","userId":"\#(userID)","metadata":[{"key":"n","value":"2"}]}"#
            )
            func keys(_ query: String) async throws -> [String] {
                let response = try await client.execute(uri: "/v3/licenses?\(query)", method: .get, headers: Self.auth)
                #expect(response.status == .ok, "\(query)")
                return try JSONDecoder().decode(JSONValue.self, from: Data(buffer: response.body)).arrayValue?
                    .compactMap { $0.objectValue?["key"]?.stringValue } ?? []
            }
            #expect(try await keys("key%5Beq%5D=KEY-AAAAAAAAAAAA-2") == ["KEY-AAAAAAAAAAAA-2"])
            #expect(try await keys("productId[eq]=a") == ["KEY-AAAAAAAAAAAA-1"])
            #expect(try await keys("userId=\(userID)") == ["KEY-AAAAAAAAAAAA-2"])
            #expect(try await keys("metadata.key[eq]=m") == ["KEY-AAAAAAAAAAAA-1"])
            #expect(try await keys("metadata.value[eq]=2") == ["KEY-AAAAAAAAAAAA-2"])
            #expect(try await keys("user.email[eq]=U%40X.io") == ["KEY-AAAAAAAAAAAA-2"])
            #expect(
                try await keys("createdAt[gte]=2000-01-01T00:00:00Z&sort=-createdAt") == [
                    "KEY-AAAAAAAAAAAA-2", "KEY-AAAAAAAAAAAA-1",
                ])
            #expect(try await keys("createdAt[gte]=2999-01-01T00:00:00Z").isEmpty)
            #expect(try await keys("page=2&limit=1") == ["KEY-AAAAAAAAAAAA-2"])
            let badLimit = try await client.execute(uri: "/v3/licenses?limit=101", method: .get, headers: Self.auth)
            #expect(badLimit.status == .badRequest)
        }
    }

    /// `in`, `nin`, `sw` and the other operators of the schema subset, on keys, metadata and
    /// emails; an operator a field does not declare is a 400 naming the supported ones.
    @Test func stringOperatorsFollowTheSubset() async throws {
        try await Self.withApp(.init(token: "t", rateLimit: nil)) { client, _ in
            for index in 1...3 {
                _ = try await Self.post(
                    client, "/v3/licenses",
                    #"{"productId":"p","key":"KEY-BBBBBBBBBBBB-\#(index)","metadata":[{"key":"m","value":"v\#(index)"}]}"#
                )
            }
            for email in ["Ann@X.io", "bob@y.io", "cat@x.io"] {
                _ = try await Self.post(
                    client, "/v3/users", #"{"email":"\#(email)","firstName":"F","password":"long-enough"}"#)
            }
            func keys(_ query: String) async throws -> [String] {
                let response = try await client.execute(uri: "/v3/licenses?\(query)", method: .get, headers: Self.auth)
                #expect(response.status == .ok, "\(query)")
                return try JSONDecoder().decode(JSONValue.self, from: Data(buffer: response.body)).arrayValue?
                    .compactMap { $0.objectValue?["key"]?.stringValue } ?? []
            }
            func emails(_ query: String) async throws -> [String] {
                let response = try await client.execute(uri: "/v3/users?\(query)", method: .get, headers: Self.auth)
                #expect(response.status == .ok, "\(query)")
                return try JSONDecoder().decode(JSONValue.self, from: Data(buffer: response.body)).arrayValue?
                    .compactMap { $0.objectValue?["email"]?.stringValue } ?? []
            }
            #expect(
                try await keys("metadata.value%5Bin%5D=v3,v1,nope") == ["KEY-BBBBBBBBBBBB-1", "KEY-BBBBBBBBBBBB-3"])
            #expect(try await keys("metadata.value%5Bnin%5D=v1,v2") == ["KEY-BBBBBBBBBBBB-3"])
            #expect(
                try await keys("key%5Bin%5D=KEY-BBBBBBBBBBBB-2,KEY-BBBBBBBBBBBB-3") == [
                    "KEY-BBBBBBBBBBBB-2", "KEY-BBBBBBBBBBBB-3",
                ])
            #expect(try await keys("key%5Bsw%5D=KEY-BBBB&key%5Bew%5D=-2") == ["KEY-BBBBBBBBBBBB-2"])
            #expect(
                try await keys("key%5Bne%5D=KEY-BBBBBBBBBBBB-1&metadata.value%5Bcn%5D=v") == [
                    "KEY-BBBBBBBBBBBB-2", "KEY-BBBBBBBBBBBB-3",
                ])
            #expect(try await keys("metadata.value%5Bnc%5D=3") == ["KEY-BBBBBBBBBBBB-1", "KEY-BBBBBBBBBBBB-2"])
            // Emails compare case-insensitively, with every operator.
            #expect(try await emails("email%5Bin%5D=ann%40x.io,CAT%40X.IO") == ["Ann@X.io", "cat@x.io"])
            #expect(try await emails("email%5Bew%5D=%40X.IO") == ["Ann@X.io", "cat@x.io"])
            #expect(try await emails("email%5Bnin%5D=bob%40y.io&email%5Bsw%5D=a") == ["Ann@X.io"])
            let unsupported = try await client.execute(
                uri: "/v3/licenses?productId%5Bsw%5D=p", method: .get, headers: Self.auth)
            #expect(unsupported.status == .badRequest)
            #expect(try Self.message(unsupported).contains("supported: eq, in, ne, nin"))
        }
    }

    @Test func aMissingOrWrongTokenGets401() async throws {
        try await Self.withApp { client, _ in
            let missing = try await client.execute(uri: "/v3/licenses", method: .get)
            #expect(missing.status == .unauthorized)
            let wrong = try await client.execute(
                uri: "/v3/licenses", method: .get, headers: [.authorization: "Bearer nope"])
            #expect(wrong.status == .unauthorized)
            #expect(try Self.message(wrong) == "Invalid or missing access token.")
        }
    }

    @Test func theRateLimitRefusesThe51stRequestOfAWindowAndAcceptsAfterReset() async throws {
        // A window far longer than the test, so the 51 requests cannot straddle two windows.
        try await Self.withApp(.init(token: "t", rateLimit: 50, rateWindowSeconds: 1_000_000)) { client, _ in
            for index in 1...50 {
                let response = try await client.execute(uri: "/v3/licenses", method: .get, headers: Self.auth)
                #expect(response.status == .ok)
                #expect(response.headers[HTTPField.Name("X-Rate-Limit-Remaining")!] == String(50 - index))
                #expect(response.headers[HTTPField.Name("X-Rate-Limit-Limit")!] == "1000000s")
            }
            let refused = try await client.execute(uri: "/v3/licenses", method: .get, headers: Self.auth)
            #expect(refused.status == .tooManyRequests)
            #expect(Int(refused.headers[.retryAfter] ?? "") ?? 0 >= 1)
            #expect(String(buffer: refused.body) == "Too Many Requests")
            #expect(refused.headers[.contentType]?.hasPrefix("text/plain") == true)
            _ = try await client.execute(uri: "/__admin/reset", method: .post)
            let accepted = try await client.execute(uri: "/v3/licenses", method: .get, headers: Self.auth)
            #expect(accepted.status == .ok)
        }
    }

    @Test func faultsAreSetAtRunTimeThroughTheAdminRoute() async throws {
        try await Self.withApp { client, _ in
            let set = try await client.execute(
                uri: "/__admin/faults", method: .put,
                body: ByteBuffer(
                    string: #"{"rules":[{"fault":"500","count":2,"method":"POST","path":"/v3/licenses"}]}"#))
            #expect(set.status == .ok)
            let lookup = try await client.execute(uri: "/v3/licenses", method: .get, headers: Self.auth)
            #expect(lookup.status == .ok, "the rule is for POST only")
            for _ in 0..<2 {
                #expect(
                    try await Self.post(client, "/v3/licenses", #"{"productId":"p1"}"#).status == .internalServerError)
            }
            #expect(try await Self.post(client, "/v3/licenses", #"{"productId":"p1"}"#).status == .created)
            let counters = try JSONDecoder().decode(
                EmulatorCounters.self,
                from: Data(buffer: try await client.execute(uri: "/__admin/counters", method: .get).body))
            #expect(counters.faults["500"] == 2)
            #expect(counters.licensesCreated == 1)
            #expect(counters.requests == 4)
        }
    }
}

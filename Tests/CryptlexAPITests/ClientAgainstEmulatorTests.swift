import CryptlexAPI
import CryptlexEmulator
import CryptlexModels
import Foundation
import Scheduling
import Testing

@Suite("CryptlexClient against the emulator, over real sockets")
struct ClientAgainstEmulatorTests {
    @Test func createsAndFindsALicenseByMarker() async throws {
        try await withEmulatorClient { client, emulator in
            var request = LicenseRequest(productId: "prod-1")
            request.allowedActivations = 3
            request.metadata = [LicenseMetadata(key: "licprov_request", value: "marker-1")]
            let created = try await client.createLicense(request)
            #expect(created.status == 201)
            #expect(created.value.key.count >= 16)
            #expect(created.value.createdAt?.text.split(separator: ".").last?.count == 8)  // 7 digits + Z

            let found = try await Self.allPages(client, LicenseQuery(metadataValue: "marker-1"))
            #expect(found.map(\.id) == [created.value.id])
            #expect(found.first?.metadataValue(forKey: "licprov_request") == "marker-1")
            #expect(try await Self.allPages(client, LicenseQuery(metadataValue: "other")).isEmpty)
            #expect(await emulator.store.allLicenses().count == 1)
        }
    }

    /// A license's life after creation: read, renew (by its interval, every call again), set the
    /// expiry (and back to perpetual), update, suspend, delete; each change counted per license.
    @Test func organizationsAndResellersAreCreatedAndFoundByName() async throws {
        try await withEmulatorClient { client, emulator in
            let reseller = try await client.createReseller(
                ResellerRequest(name: "Northwind", email: "sales@northwind.io"))
            #expect(reseller.status == 201)
            var request = OrganizationRequest(name: "Acme", email: "it@acme.io", resellerId: reseller.value.id)
            request.address = .init(city: "Lisbon", country: "PT")
            let acme = try await client.createOrganization(request).value
            #expect(acme.resellerId == reseller.value.id)
            _ = try await client.createOrganization(
                OrganizationRequest(name: "Initech, Inc.", email: "it@initech.io", resellerId: reseller.value.id))
            _ = try await client.createOrganization(OrganizationRequest(name: "Globex", email: "it@globex.io"))
            #expect(
                try await client.findOrganizations(names: ["Acme", "Globex", "Nobody"]).value.map(\.name) == [
                    "Acme", "Globex",
                ])
            #expect(try await client.findOrganizations(names: ["Initech, Inc."]).value.map(\.name) == ["Initech, Inc."])
            #expect(
                try await client.findOrganizations(names: ["Acme", "Globex"], resellerId: reseller.value.id).value.map(
                    \.id) == [acme.id])
            #expect(try await client.findResellers(names: ["Northwind"]).value.map(\.id) == [reseller.value.id])
            let missing = await apiError {
                try await client.createOrganization(OrganizationRequest(name: "X", email: "not-an-email"))
            }
            #expect(missing?.status == 400)
            #expect(await emulator.store.allOrganizations().count == 3)
        }
    }

    @Test func aLicenseIsReadRenewedUpdatedAndDeleted() async throws {
        try await withEmulatorClient { client, emulator in
            var request = LicenseRequest(productId: "prod-1")
            request.subscriptionInterval = "P1M"
            request.expiresAt = "2027-01-31T00:00:00Z"
            let id = try await client.createLicense(request).value.id
            #expect(try await client.license(id: id).value.expiresAt?.hasPrefix("2027-01-31T00:00:00") == true)

            let renewed = try await client.renewLicense(id: id)
            #expect(renewed.value.expiresAt?.hasPrefix("2027-02-28T00:00:00") == true)  // a month on, by the calendar
            #expect(try await client.renewLicense(id: id).value.expiresAt?.hasPrefix("2027-03-28T00:00:00") == true)
            #expect(
                try await client.setExpiry(id: id, expiresAt: "2030-06-01T00:00:00Z").value.expiresAt?.hasPrefix(
                    "2030-06-01") == true)
            #expect(try await client.setExpiry(id: id, expiresAt: nil).value.expiresAt == nil)

            let updated = try await client.updateLicense(
                id: id, body: Array(#"{"allowedActivations":9,"suspended":true,"notes":"moved"}"#.utf8))
            #expect(updated.value.suspended == true)
            #expect(await emulator.store.allLicenses().first?.objectValue?["allowedActivations"] == .int(9))
            // A create-only field is not part of LicenseUpdateRequestModel: 400 naming it.
            let refused = await apiError {
                try await client.updateLicense(id: id, body: Array(#"{"productId":"prod-2"}"#.utf8))
            }
            #expect(refused?.status == 400)
            #expect(refused?.description.contains("productId") == true)

            #expect(try await client.deleteLicense(id: id).status == 204)
            let gone = await apiError { try await client.license(id: id) }
            #expect(gone?.status == 404)
            #expect(gone?.outcome == .permanent)
            let changes = await emulator.store.changesByLicense()[id] ?? [:]
            #expect(changes == ["renew": 2, "expires-at": 2, "update": 1, "delete": 1])
        }
    }

    /// A renewal whose answer is lost was applied: the license's counter and expiry show it.
    @Test func aLostAnswerToARenewalWasApplied() async throws {
        try await withEmulatorClient { client, emulator in
            var request = LicenseRequest(productId: "prod-1")
            request.subscriptionInterval = "P1Y"
            request.expiresAt = "2027-05-01T00:00:00Z"
            let id = try await client.createLicense(request).value.id
            await emulator.faults.replace(
                with: FaultSettings(rules: [FaultRule(fault: .lostResponse, count: 1, path: "/v3/licenses/*/renew")]))
            let error = await apiError { try await client.renewLicense(id: id) }
            #expect(error?.outcome == .ambiguous)
            #expect(try await client.license(id: id).value.expiresAt?.hasPrefix("2028-05-01") == true)
            #expect(await emulator.store.changesByLicense()[id] == ["renew": 1])
        }
    }

    @Test func pagesThroughLookupsUntilAShortPage() async throws {
        try await withEmulatorClient { client, _ in
            for index in 0..<7 {
                var request = LicenseRequest(productId: "prod-1")
                request.key = "PAGED-KEY-000000-\(index)"
                _ = try await client.createLicense(request)
            }
            let all = try await Self.allPages(client, LicenseQuery(productId: "prod-1"), pageSize: 3)
            #expect(all.count == 7)
            let newest = try await client.findLicenses(
                LicenseQuery(productId: "prod-1", newestFirst: true), page: 1, limit: 1)
            #expect(newest.value.first?.key == "PAGED-KEY-000000-6")
        }
    }

    @Test func usersAreFoundCaseInsensitivelyAndDuplicatesConflict() async throws {
        try await withEmulatorClient { client, _ in
            let user = try await client.createUser(
                UserRequest(email: "Ann@Example.com", firstName: "Ann", password: "s3cret-pass"))
            let found = try await client.findUsers(email: "ann@example.COM")
            #expect(found.value.map(\.id) == [user.value.id])
            let error = await apiError {
                try await client.createUser(
                    UserRequest(email: "ann@example.com", firstName: "A", password: "another-pass"))
            }
            #expect(error?.status == 409)
            #expect(error?.outcome == .permanent)
        }
    }

    @Test func aDuplicateKeyIsAPermanent409WithItsCode() async throws {
        try await withEmulatorClient { client, _ in
            var request = LicenseRequest(productId: "prod-1")
            request.key = "MIGRATED-KEY-0001"
            _ = try await client.createLicense(request)
            let error = await apiError { try await client.createLicense(request) }
            #expect(
                error?.failure
                    == .http(
                        status: 409, code: "DUPLICATE_FIELD_VALUE", message: "A license with this key already exists."))
            #expect(error?.outcome == .permanent)
        }
    }

    @Test func aSchemaViolationIsAPermanent400NamingTheField() async throws {
        try await withEmulatorClient { client, _ in
            var request = LicenseRequest(productId: "prod-1")
            request.serverSyncInterval = 60
            let error = await apiError { try await client.createLicense(request) }
            #expect(error?.status == 400)
            #expect(error?.outcome == .permanent)
            #expect(error?.errorDescription?.contains("serverSyncInterval") == true)
        }
    }

    @Test func anUnknownProductOrUserIsA400() async throws {
        try await withEmulatorClient { client, _ in
            let unknownProduct = await apiError { try await client.createLicense(LicenseRequest(productId: "nope")) }
            #expect(unknownProduct?.status == 400)
            var request = LicenseRequest(productId: "prod-1")
            request.userId = "no-such-user"
            let unknownUser = await apiError { try await client.createLicense(request) }
            #expect(unknownUser?.status == 400)
            #expect(unknownUser?.outcome == .permanent)
        }
    }

    @Test func aWrongTokenStopsTheRun() async throws {
        try await withEmulatorClient(token: "wrong-token") { client, _ in
            let error = await apiError { try await client.createLicense(LicenseRequest(productId: "prod-1")) }
            #expect(error?.status == 401)
            #expect(error?.outcome == .stopRun)
            #expect(error?.errorDescription?.contains("wrong-token") == false)
        }
    }

    @Test func aTokenWithoutWriteScopeStopsTheRun() async throws {
        let configuration = EmulatorConfiguration(token: "test-token", readOnlyToken: "read-only", rateLimit: nil)
        try await withEmulatorClient(configuration, token: "read-only") { client, _ in
            _ = try await client.findLicenses(LicenseQuery())
            let error = await apiError { try await client.createLicense(LicenseRequest(productId: "prod-1")) }
            #expect(error?.status == 403)
            #expect(error?.outcome == .stopRun)
        }
    }

    @Test func aRateLimited429IsThrottledForItsRetryAfter() async throws {
        let configuration = EmulatorConfiguration(token: "test-token", rateLimit: 2, rateWindowSeconds: 1_000_000)
        try await withEmulatorClient(configuration) { client, _ in
            let first = try await client.findLicenses(LicenseQuery())
            #expect(first.rateLimit.remaining == 1)
            #expect(first.rateLimit.window == .seconds(1_000_000))
            #expect(first.rateLimit.reset != nil)
            _ = try await client.findLicenses(LicenseQuery())
            let error = await apiError { try await client.createLicense(LicenseRequest(productId: "prod-1")) }
            #expect(error?.status == 429)
            guard case .throttled(let after)? = error?.outcome, let after else {
                Issue.record("expected throttled with a delay, got \(String(describing: error?.outcome))")
                return
            }
            #expect(after > .zero)
            #expect(error?.failure == .http(status: 429, code: nil, message: "Too Many Requests"))
        }
    }

    @Test(arguments: [
        (Fault.http500, OutcomeClass.ambiguous, 0),
        (Fault.http502, OutcomeClass.ambiguous, 0),
        (Fault.http503, OutcomeClass.retryable(after: .seconds(7)), 0),
        (Fault.http504, OutcomeClass.ambiguous, 1),
        (Fault.reset, OutcomeClass.ambiguous, 0),
        (Fault.lostResponse, OutcomeClass.ambiguous, 1),
    ])
    func everyFaultOnACreateIsClassified(fault: Fault, expected: OutcomeClass, licensesAfter: Int) async throws {
        try await withEmulatorClient { client, emulator in
            await emulator.faults.replace(
                with: FaultSettings(rules: [FaultRule(fault: fault, count: 1)], retryAfterSeconds: 7))
            let error = await apiError { try await client.createLicense(LicenseRequest(productId: "prod-1")) }
            #expect(error?.outcome == expected)
            // The emulator holds a license exactly when the fault strikes after processing.
            #expect(await emulator.store.allLicenses().count == licensesAfter)
            #expect(await emulator.store.snapshot().faults[fault.rawValue] == 1)
            // The next request goes through: the fault was for one request only.
            let created = try await client.createLicense(LicenseRequest(productId: "prod-1"))
            #expect(created.status == 201)
        }
    }

    @Test func aFaultOnALookupIsPlainlyRetryable() async throws {
        try await withEmulatorClient { client, emulator in
            for fault in [Fault.reset, .http500, .lostResponse] {
                await emulator.faults.replace(
                    with: FaultSettings(rules: [FaultRule(fault: fault, count: 1, method: "GET")]))
                let error = await apiError { try await client.findLicenses(LicenseQuery()) }
                #expect(error?.outcome == OutcomeClass.retryable(after: nil), "\(fault)")
            }
        }
    }

    @Test func aResponseSlowerThanTheTimeoutIsAmbiguous() async throws {
        try await withEmulatorClient(requestTimeout: .milliseconds(300)) { client, emulator in
            await emulator.faults.replace(with: FaultSettings(latencyMilliseconds: 2_000))
            let error = await apiError { try await client.createLicense(LicenseRequest(productId: "prod-1")) }
            guard case .transport(.timedOut)? = error?.failure else {
                Issue.record("expected a timeout, got \(String(describing: error))")
                return
            }
            #expect(error?.outcome == .ambiguous)
        }
    }

    @Test func aRefusedConnectionIsNotSentAndRetryable() async throws {
        // Bind a port, then close it, so nothing listens there.
        let emulator = try CryptlexEmulator(configuration: EmulatorConfiguration(token: "t"))
        let closedURL = try await emulator.withRunningServer { url in url }
        let client = CryptlexClient(
            baseURL: try CryptlexBaseURL(closedURL), token: "t",
            transport: AsyncHTTPClientTransport(connections: 1, connectTimeout: .seconds(1)),
            requestTimeout: .seconds(5))
        let error = await apiError { try await client.createLicense(LicenseRequest(productId: "p")) }
        try await client.shutdown()
        guard case .transport(.connectFailed)? = error?.failure else {
            Issue.record("expected connectFailed, got \(String(describing: error))")
            return
        }
        #expect(error?.outcome == OutcomeClass.retryable(after: nil))
    }

    /// Every license matching `query`, page by page until a short page (the run's pager,
    /// `RunRequests.forEachPage`, lives in APIRequests; the client sends one page a call).
    static func allPages(_ client: CryptlexClient, _ query: LicenseQuery, pageSize: Int = 100) async throws -> [License]
    {
        var found: [License] = []
        for page in 1...100 {
            let answer = try await client.findLicenses(query, page: page, limit: pageSize)
            found += answer.value
            if answer.value.count < pageSize { break }
        }
        return found
    }
}

import CryptlexAPI
import CryptlexEmulator
import CryptlexModels
import Foundation
import Journal
import Testing

@testable import Provisioning

/// Organizations and resellers from a reseller's sheet: found or created once per journal, by name.
@Suite("Organizations and resellers against the emulator")
struct DirectoryTests {
    static let header = "order_id,productId,email,organization.name,organization.email,reseller.name,reseller.email\n"

    /// `orders` rows: person `o % people`, in company `person % companies`, under reseller `company % 2`.
    static func sheet(orders: Int, people: Int, companies: Int) -> String {
        header
            + (0..<orders).map { order in
                let person = order % people
                let company = person % companies
                let reseller = company % 2
                return
                    "O-\(order),prod-1,person\(person)@example.com,Company \(company),it@company\(company).example,Reseller \(reseller),sales@reseller\(reseller).example\n"
            }.joined()
    }

    static func strings(_ value: JSONValue?, _ key: String) -> String? {
        if case .object(let object)? = value, case .string(let text)? = object[key] { return text }
        return nil
    }

    static func byID(_ records: [JSONValue]) -> [String: [String: JSONValue]] {
        var all: [String: [String: JSONValue]] = [:]
        for case .object(let record) in records { if case .string(let id)? = record["id"] { all[id] = record } }
        return all
    }

    /// 60 orders for 12 companies and 30 people under 2 resellers: 2 resellers, 12 organizations
    /// (each under its reseller), 30 users (each in its organization and reseller), 60 licenses
    /// linked to all three; three batched lookups (resellers, organizations, users) and the
    /// creates, nothing looked up one by one; a rerun sends nothing.
    @Test func aResellerSheetMakesEachOrganizationAndResellerOnce() async throws {
        try await withRunBench { bench in
            try bench.write(Self.sheet(orders: 60, people: 30, companies: 12))
            let configuration = bench.configuration(idColumn: "order_id") { $0.concurrency = 8 }
            let report = try await bench.run(configuration)
            #expect(report.counts.created == 60)
            #expect(report.counts.directoryCreated == 14)
            let counters = await bench.counters
            #expect(counters.resellerLookups == 1)
            #expect(counters.organizationLookups == 1)
            #expect(counters.resellerCreateRequests == 2)
            #expect(counters.organizationCreateRequests == 12)
            // The creates, three batched lookups and the preflight's one read.
            #expect(counters.requests == 60 + 14 + 30 + 3 + 1, "\(counters.requests) requests")
            try await Self.checkLinks(bench, orders: 60, people: 30, companies: 12)
            let rows = try bench.resultRows(configuration)
            let organizations = Self.byID(await bench.emulator.store.allOrganizations())
            #expect(rows.allSatisfy { organizations[$0["organization_id"] ?? ""] != nil })
            #expect(Set(rows.compactMap { $0["reseller_id"] }).count == 2)

            let before = await bench.counters.requests
            let rerun = try await bench.run(configuration)
            #expect(rerun.counts.alreadyDone == 60)
            #expect(await bench.counters.requests == before)

            // Audit: clean; then a license moved to another organization by hand is `changed`.
            #expect(try await AuditTests().audit(bench, configuration).counts[.ok] == 60)
            let moved = try #require(rows.first { $0["row_id"] == "O-0" })
            let other = try #require(organizations.keys.first { $0 != moved["organization_id"] })
            _ = try await bench.emulator.store.updateLicense(
                id: moved["license_id"] ?? "", ["organizationId": .string(other)], nowTicks: 1)
            let audit = try await AuditTests().audit(bench, configuration)
            #expect(audit.counts[.changed] == 1)
            #expect(
                audit.findings.first { $0.kind == .changed }?.detail.hasPrefix("organizationId: licprov set") == true)
        }
    }

    /// Every license linked to its row's person, company and reseller; every user in its company.
    static func checkLinks(_ bench: RunBench, orders: Int, people: Int, companies: Int) async throws {
        let resellers = byID(await bench.emulator.store.allResellers())
        let organizations = byID(await bench.emulator.store.allOrganizations())
        let users = byID(await bench.emulator.store.allUsers())
        #expect(resellers.count == 2)
        #expect(organizations.count == companies)
        #expect(users.count == people)
        func name(_ record: [String: JSONValue]?) -> String? {
            if case .string(let text)? = record?["name"] { text } else { nil }
        }
        func text(_ record: [String: JSONValue]?, _ key: String) -> String? {
            if case .string(let text)? = record?[key] { text } else { nil }
        }
        for (_, organization) in organizations {
            let company = Int(name(organization)?.dropFirst("Company ".count) ?? "") ?? -1
            #expect(
                name(resellers[text(organization, "resellerId") ?? ""]) == "Reseller \(company % 2)", "\(organization)")
        }
        for (_, user) in users {
            let person = Int(text(user, "email")?.dropFirst("person".count).prefix { $0 != "@" } ?? "") ?? -1
            #expect(name(organizations[text(user, "organizationId") ?? ""]) == "Company \(person % companies)")
            #expect(name(resellers[text(user, "resellerId") ?? ""]) == "Reseller \(person % companies % 2)")
        }
        var linked = 0
        for case .object(let license) in await bench.emulator.store.allLicenses() {
            guard case .array(let metadata)? = license["metadata"] else { continue }
            for case .object(let entry) in metadata where entry["key"] == .string("order_id") {
                guard case .string(let orderID)? = entry["value"], let order = Int(orderID.dropFirst(2)) else {
                    continue
                }
                let person = order % people
                let company = person % companies
                if text(users[text(license, "userId") ?? ""], "email") == "person\(person)@example.com",
                    name(organizations[text(license, "organizationId") ?? ""]) == "Company \(company)",
                    name(resellers[text(license, "resellerId") ?? ""]) == "Reseller \(company % 2)"
                {
                    linked += 1
                }
            }
        }
        #expect(linked == orders)
    }

    /// Issue 25's bound with everything new: 300 orders, 2 resellers, 60 companies, 150 people →
    /// at most 300 + 60 + 2 + 150 + 10 requests (the creates and the batched lookups).
    @Test func threeHundredNewOrdersStayWithinTheRequestBound() async throws {
        try await withRunBench { bench in
            try bench.write(Self.sheet(orders: 300, people: 150, companies: 60))
            let report = try await bench.run(bench.configuration(idColumn: "order_id") { $0.concurrency = 8 })
            #expect(report.counts.created == 300)
            let counters = await bench.counters
            #expect(counters.requests <= 300 + 60 + 2 + 150 + 10, "\(counters.requests) requests")
            print(
                "300 new reseller orders: \(counters.requests) requests (\(counters.resellerLookups) reseller, \(counters.organizationLookups) organization, \(counters.userLookups) user lookups)"
            )
            #expect(counters.resellerLookups + counters.organizationLookups == 2)
            try await Self.checkLinks(bench, orders: 300, people: 150, companies: 60)
        }
    }

    /// With every organization and reseller in the account already: no create for them, and one
    /// batched lookup each.
    @Test func organizationsAndResellersAlreadyPresentAreFoundNotCreated() async throws {
        try await withRunBench { bench in
            var resellerIDs: [String] = []
            for reseller in 0..<2 {
                let created = await bench.emulator.store.createReseller(
                    [
                        "name": .string("Reseller \(reseller)"), "email": .string("r@x.example"),
                        "allowedUsers": .int(-1), "allowedOrganizations": .int(-1),
                    ], nowTicks: 0)
                resellerIDs.append(Self.strings(created, "id") ?? "")
            }
            for company in 0..<60 {
                _ = try await bench.emulator.store.createOrganization(
                    [
                        "name": .string("Company \(company)"), "email": .string("o@x.example"),
                        "allowedUsers": .int(-1), "resellerId": .string(resellerIDs[company % 2]),
                    ], nowTicks: 0)
            }
            try bench.write(Self.sheet(orders: 300, people: 150, companies: 60))
            let report = try await bench.run(bench.configuration(idColumn: "order_id") { $0.concurrency = 8 })
            #expect(report.counts.created == 300)
            #expect(report.counts.directoryFound == 62)
            #expect(report.counts.directoryCreated == 0)
            let counters = await bench.counters
            #expect(counters.resellerCreateRequests == 0)
            #expect(counters.organizationCreateRequests == 0)
            #expect(
                counters.resellerLookups + counters.organizationLookups <= 5,
                "\(counters.resellerLookups) + \(counters.organizationLookups) lookups")
            print(
                "300 orders, organizations and resellers present: \(counters.resellerLookups + counters.organizationLookups) lookups for them, \(counters.requests) requests"
            )
            try await Self.checkLinks(bench, orders: 300, people: 150, companies: 60)
        }
    }

    /// A name with a comma cannot go in `name[in]`: it is looked up alone (`name[eq]`) and found.
    @Test func aNameWithACommaIsLookedUpAloneAndFound() async throws {
        try await withRunBench { bench in
            _ = try await bench.emulator.store.createOrganization(
                [
                    "name": .string("Globex, Inc."), "email": .string("o@x.example"),
                    "allowedUsers": .int(-1),
                ], nowTicks: 0)
            try bench.write(
                "order_id,productId,organization.name,organization.email\nG-1,prod-1,\"Globex, Inc.\",it@globex.example\n"
                    + "G-2,prod-1,Initech,it@initech.example\n")
            let report = try await bench.run(bench.configuration(idColumn: "order_id"))
            #expect(report.counts.created == 2)
            let counters = await bench.counters
            #expect(counters.organizationCreateRequests == 1)
            #expect(counters.organizationLookups == 2)
            let names = await bench.emulator.store.allOrganizations().compactMap { Self.strings($0, "name") }
            #expect(names.sorted() == ["Globex, Inc.", "Initech"])
        }
    }

    /// An organization that exists under another reseller is used as it is (warned), not made again.
    @Test func anOrganizationUnderAnotherResellerIsUsedAsItIs() async throws {
        try await withRunBench { bench in
            let other = await bench.emulator.store.createReseller(
                [
                    "name": .string("Old Partner"), "email": .string("r@x.example"),
                    "allowedUsers": .int(-1), "allowedOrganizations": .int(-1),
                ], nowTicks: 0)
            let acme = try await bench.emulator.store.createOrganization(
                [
                    "name": .string("Acme"), "email": .string("o@x.example"), "allowedUsers": .int(-1),
                    "resellerId": .string(Self.strings(other, "id") ?? ""),
                ], nowTicks: 0)
            try bench.write(
                Self.header + "A-1,prod-1,ana@acme.example,Acme,it@acme.example,New Partner,sales@new.example\n")
            let configuration = bench.configuration(idColumn: "order_id")
            let report = try await bench.run(configuration)
            #expect(report.counts.created == 1)
            #expect(await bench.counters.organizationCreateRequests == 0)
            let license = await bench.emulator.store.allLicenses().first
            #expect(Self.strings(license, "organizationId") == Self.strings(acme, "id"))
            let rows = try bench.resultRows(configuration)
            #expect(rows.first?["organization_id"] == Self.strings(acme, "id"))
        }
    }

    /// A customer whose user is in another organization is linked as it is (warned): the user is
    /// neither moved nor made again.
    @Test func aUserInAnotherOrganizationIsLinkedAsItIs() async throws {
        try await withRunBench { bench in
            let elsewhere = try await bench.emulator.store.createOrganization(
                [
                    "name": .string("Elsewhere"), "email": .string("o@x.example"),
                    "allowedUsers": .int(-1),
                ], nowTicks: 0)
            let user = try await bench.emulator.store.createUser(
                [
                    "email": .string("ana@acme.example"), "firstName": .string("Ana"),
                    "password": .string("an-old-password"),
                    "organizationId": .string(Self.strings(elsewhere, "id") ?? ""),
                ], nowTicks: 0)
            try bench.write(
                Self.header + "A-1,prod-1,ana@acme.example,Acme,it@acme.example,North,sales@north.example\n")
            let report = try await bench.run(bench.configuration(idColumn: "order_id"))
            #expect(report.counts.created == 1)
            let users = await bench.emulator.store.allUsers()
            #expect(users.count == 1)
            #expect(Self.strings(users.first, "organizationId") == Self.strings(elsewhere, "id"))
            let license = await bench.emulator.store.allLicenses().first
            #expect(Self.strings(license, "userId") == Self.strings(user, "id"))
            #expect(Self.strings(license, "organizationId") != Self.strings(elsewhere, "id"))
        }
    }

    /// Lost answers to the organization's and the reseller's creates: settled by looking the name
    /// up after the reconcile delay, never by a second create.
    @Test func lostAnswersToDirectoryCreatesMakeNoSecondOne() async throws {
        let faults = FaultSettings(
            rules: [
                FaultRule(fault: .lostResponse, count: 1, method: "POST", path: "/v3/resellers"),
                FaultRule(fault: .lostResponse, count: 1, method: "POST", path: "/v3/organizations"),
                FaultRule(fault: .http500, count: 1, method: "POST", path: "/v3/organizations"),
            ],
            lookupLagMilliseconds: 50)
        try await withRunBench(
            EmulatorConfiguration(token: "test-token", products: ["prod-1"], rateLimit: nil, faults: faults)
        ) { bench in
            try bench.write(Self.sheet(orders: 8, people: 4, companies: 2))
            let report = try await bench.run(
                bench.configuration(idColumn: "order_id") { $0.reconcileDelay = .milliseconds(200) })
            #expect(report.counts.created == 8)
            #expect(await bench.emulator.store.allOrganizations().count == 2)
            #expect(await bench.emulator.store.allResellers().count == 2)
            try await Self.checkLinks(bench, orders: 8, people: 4, companies: 2)
        }
    }

    /// An organization a killed run's create made on the server (its entry left in flight), the
    /// search still a few seconds behind: the resumed run must not take the name's absence from
    /// the search as proof (names are not unique: a second create would make a second one).
    @Test func anOrganizationLeftInFlightIsLookedUpAfterTheDelayNotCreatedAgain() async throws {
        let settings = FaultSettings(lookupLagMilliseconds: 3_000)
        try await withRunBench(
            EmulatorConfiguration(token: "test-token", products: ["prod-1"], rateLimit: nil, faults: settings)
        ) { bench in
            try bench.write(
                "order_id,productId,email,organization.name,organization.email\n"
                    + "O-1,prod-1,p@example.com,Company 0,it@company0.example\n")
            let configuration = bench.configuration(idColumn: "order_id") { $0.reconcileDelay = .seconds(5) }
            try await bench.registerWithoutSending(configuration)
            try bench.journalSQL(configuration, "UPDATE directory SET state = 'inFlight'")
            let made = try await bench.client().createOrganization(
                OrganizationRequest(name: "Company 0", email: "it@company0.example")
            ).value.id

            let report = try await bench.run(configuration)
            #expect(report.counts.created == 1)
            let organizations = await bench.emulator.store.allOrganizations()
            #expect(organizations.count == 1)
            #expect(try bench.resultRows(configuration)[0]["organization_id"] == made)
        }
    }

    /// Two organizations with the row's name in the account: licprov does not guess; the rows are
    /// rejected with the ids, the other rows go on.
    @Test func twoOrganizationsWithTheNameRejectTheRows() async throws {
        try await withRunBench { bench in
            for _ in 0..<2 {
                _ = try await bench.emulator.store.createOrganization(
                    ["name": .string("Twin"), "email": .string("o@x.example"), "allowedUsers": .int(-1)], nowTicks: 0)
            }
            try bench.write(
                "order_id,productId,organization.name,organization.email\nT-1,prod-1,Twin,it@twin.example\nT-2,prod-1,Solo,it@solo.example\n"
            )
            let configuration = bench.configuration(idColumn: "order_id")
            let report = try await bench.run(configuration)
            #expect(report.counts.created == 1)
            #expect(report.counts.rejected == 1)
            let rows = try bench.resultRows(configuration)
            let message = rows.first { $0["row_id"] == "T-1" }?["message"] ?? ""
            #expect(message.contains("2 organizations are named") && message.contains("Twin"), "\(message)")
            #expect(await bench.emulator.store.allOrganizations().count == 3)
        }
    }
}

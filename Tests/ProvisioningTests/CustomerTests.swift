import CryptlexAPI
import CryptlexEmulator
import CryptlexModels
import Foundation
import Journal
import Testing

@testable import Audit
@testable import Provisioning

@Suite("Customers and migrations against the emulator")
struct CustomerTests {
    /// 500 rows for 50 customers (10 of whom exist already), as CSV.
    static func customerOrders() -> String {
        "order_id,productId,email,firstName,lastName\n"
            + (1...500).map { row in
                let customer = row % 50
                // Emails differ in case between rows of one customer: Cryptlex compares them case-insensitively.
                let email = row % 2 == 0 ? "Customer\(customer)@Example.com" : "customer\(customer)@example.com"
                return "C-\(row),prod-1,\(email),\(customer % 7 == 0 ? "" : "First\(customer)"),Last\(customer)\n"
            }.joined()
    }

    static func seedUsers(_ emulator: CryptlexEmulator) async throws {
        for customer in 0..<10 {
            _ = try await emulator.store.createUser(
                [
                    "email": .string("customer\(customer)@example.com"), "firstName": .string("Existing"),
                    "password": .string("an-old-password"),
                ], nowTicks: 0)
        }
    }

    /// Checks every license belongs to the user with its row's email, and the users are exactly the 50.
    static func checkLinks(_ bench: RunBench) async throws {
        let users = await bench.emulator.store.allUsers()
        #expect(users.count == 50)
        var emailByUser: [String: String] = [:]
        for case .object(let user) in users {
            if case .string(let id)? = user["id"], case .string(let email)? = user["email"] {
                emailByUser[id] = email.lowercased()
            }
        }
        #expect(Set(emailByUser.values).count == 50)
        let licenses = await bench.emulator.store.allLicenses()
        #expect(licenses.count == 500)
        var linked = 0
        for case .object(let license) in licenses {
            guard case .string(let userID)? = license["userId"], let email = emailByUser[userID],
                case .array(let metadata)? = license["metadata"]
            else { continue }
            // The order id is kept as metadata: check the license went to that row's customer.
            for case .object(let entry) in metadata where entry["key"] == .string("order_id") {
                if case .string(let orderID)? = entry["value"], let row = Int(orderID.dropFirst(2)),
                    email == "customer\(row % 50)@example.com"
                {
                    linked += 1
                }
            }
        }
        #expect(linked == 500)
    }

    /// 250 customers, 100 of them already in the account under another case: three `email[in]`
    /// lookups of up to 100 emails (over real sockets), 150 creates, every license linked to its
    /// customer; nobody is looked up one by one.
    @Test func twoHundredFiftyCustomersAreLookedUpAHundredAtATime() async throws {
        try await withRunBench { bench in
            for customer in 0..<100 {
                _ = try await bench.emulator.store.createUser(
                    [
                        "email": .string("Buyer\(customer)@Shop.example"), "firstName": .string("Existing"),
                        "password": .string("an-old-password"),
                    ], nowTicks: 0)
            }
            try bench.write(
                "order_id,productId,email\n" + (0..<250).map { "B-\($0),prod-1,buyer\($0)@shop.example\n" }.joined())
            let configuration = bench.configuration(idColumn: "order_id") { $0.concurrency = 8 }
            let report = try await bench.run(configuration)
            #expect(report.counts.created == 250)
            #expect(report.counts.usersFound == 100)
            #expect(report.counts.usersCreated == 150)
            let counters = await bench.counters
            #expect(counters.userLookups == 3)
            #expect(counters.userCreateRequests == 150)
            let users = await bench.emulator.store.allUsers()
            #expect(users.count == 250)
            var idByEmail: [String: String] = [:]
            for case .object(let user) in users {
                if case .string(let email)? = user["email"], case .string(let id)? = user["id"] {
                    idByEmail[email.lowercased()] = id
                }
            }
            var linked = 0
            for case .object(let license) in await bench.emulator.store.allLicenses() {
                guard case .array(let metadata)? = license["metadata"], case .string(let userID)? = license["userId"]
                else { continue }
                for case .object(let entry) in metadata where entry["key"] == .string("order_id") {
                    if case .string(let order)? = entry["value"],
                        idByEmail["buyer\(order.dropFirst(2))@shop.example"] == userID
                    {
                        linked += 1
                    }
                }
            }
            #expect(linked == 250)
        }
    }

    /// An email with a comma cannot travel in `email[in]`: it is looked up alone with `email[eq]`,
    /// the others together.
    @Test func anEmailWithACommaIsLookedUpAlone() async throws {
        try await withRunBench { bench in
            _ = try await bench.emulator.store.createUser(
                [
                    "email": .string("\"last,first\"@x.example"), "firstName": .string("Quoted"),
                    "password": .string("an-old-password"),
                ], nowTicks: 0)
            try bench.write(
                "order_id,productId,email\nQ-1,prod-1,\"\"\"last,first\"\"@x.example\"\nQ-2,prod-1,c@x.example\nQ-3,prod-1,d@x.example\n"
            )
            let report = try await bench.run(bench.configuration(idColumn: "order_id"))
            #expect(report.counts.created == 3)
            #expect(report.counts.usersFound == 1)
            #expect(report.counts.usersCreated == 2)
            #expect(
                await bench.counters.userLookups == 2, "one email[in] for c and d, one email[eq] for the quoted one")
        }
    }

    @Test func fiftyCustomersAreResolvedOnceAndEveryLicenseIsLinked() async throws {
        try await withRunBench { bench in
            try await Self.seedUsers(bench.emulator)
            try bench.write(Self.customerOrders())
            let configuration = bench.configuration(idColumn: "order_id") { $0.concurrency = 8 }
            let report = try await bench.run(configuration)
            #expect(report.counts.created == 500)
            #expect(report.counts.usersFound == 10)
            #expect(report.counts.usersCreated == 40)
            try await Self.checkLinks(bench)
            let counters = await bench.counters
            // The 50 emails are looked up together: one email[in] request.
            #expect(counters.userLookups == 1)
            #expect(counters.userCreateRequests == 40)
            #expect(counters.licenseCreateRequests == 500)
            // A rerun asks Cryptlex nothing about customers: the journal remembers them.
            _ = try await bench.run(configuration)
            #expect(await bench.counters.userLookups == 1)
            #expect(try JournalReport.status(journalPath: configuration.journalPath).customers == [.resolved: 50])
            // Customer 14 has no first name in the file: the email's local part stands in.
            let fourteen = await bench.emulator.store.allUsers().first {
                if case .object(let user) = $0, case .string(let email)? = user["email"] {
                    email.lowercased() == "customer14@example.com"
                } else {
                    false
                }
            }
            guard case .object(let user)? = fourteen, case .string(let email)? = user["email"] else {
                Issue.record("customer 14 was not created")
                return
            }
            #expect(user["firstName"] == .string(String(email.prefix { $0 != "@" })))
        }
    }

    @Test func lostAnswersToUserCreatesStillMakeExactlyFiftyUsers() async throws {
        let faults = FaultSettings(rules: [
            FaultRule(fault: .lostResponse, count: 8, method: "POST", path: "/v3/users"),
            FaultRule(fault: .http504, count: 4, method: "POST", path: "/v3/users"),
        ])
        try await withRunBench(
            EmulatorConfiguration(token: "test-token", products: ["prod-1"], rateLimit: nil, faults: faults)
        ) { bench in
            try await Self.seedUsers(bench.emulator)
            try bench.write(Self.customerOrders())
            let report = try await bench.run(bench.configuration(idColumn: "order_id") { $0.concurrency = 8 })
            #expect(report.counts.created == 500)
            try await Self.checkLinks(bench)
            #expect(await bench.counters.usersCreated == 50)  // the 10 seeded and 40 made by the run, none twice
        }
    }

    @Test func anUnknownEmailIsARowErrorWithNoCreateUsers() async throws {
        try await withRunBench { bench in
            try await Self.seedUsers(bench.emulator)
            try bench.write(
                "order_id,productId,email\nK-1,prod-1,customer1@example.com\nK-2,prod-1,stranger@example.com\n")
            let configuration = bench.configuration(idColumn: "order_id") { $0.createUsers = false }
            let report = try await bench.run(configuration)
            #expect(report.counts.created == 1)
            #expect(report.counts.rejected == 1)
            let rows = try bench.resultRows(configuration)
            #expect(rows[1]["status"] == "rejected")
            #expect(rows[1]["message"]?.contains("stranger@example.com") == true)
            #expect(await bench.counters.userCreateRequests == 0)
        }
    }

    @Test func aThousandMigrationRowsWithTenKeysPresentFiveOursFiveForeign() async throws {
        try await withRunBench { bench in
            func key(_ row: Int) -> String { "MIG-\(String(format: "%06d", row))-ABCD-EFGH" }
            let header = "key,allowedActivations,subscriptionInterval,createdAt,order_id\n"
            func rows(_ range: ClosedRange<Int>) -> String {
                range.map { "\(key($0)),2,P1Y,2021-03-\(String(format: "%02d", $0 % 28 + 1)),L-\($0)\n" }.joined()
            }
            // An earlier run provisioned rows 1–5 (ours, in this journal); another tool made 6–10.
            try bench.write(header + rows(1...5))
            let configuration = bench.configuration(idColumn: "order_id") {
                $0.concurrency = 8
                $0.ingest.defaults = [("productId", "prod-1")]
            }
            _ = try await bench.run(configuration)
            var foreign: [String] = []
            for row in 6...10 {
                foreign.append(try await bench.createDirectly(#"{"productId":"prod-1","key":"\#(key(row))"}"#))
            }

            try bench.write(header + rows(1...1000))
            let report = try await bench.run(configuration)
            #expect(report.counts.created + report.counts.recovered + report.counts.alreadyDone == 995)
            #expect(report.counts.alreadyDone == 5)
            #expect(report.counts.conflicts == 5)
            let licenses = await bench.licenses()
            #expect(licenses.count == 1000)
            #expect(Set(licenses.map(\.key)).count == 1000)
            let conflicts = try bench.resultRows(configuration).filter { $0["status"] == "conflict" }
            #expect(conflicts.map { $0["row_id"] } == (6...10).map { "L-\($0)" })
            #expect(zip(conflicts, foreign).allSatisfy { $0["message"]?.contains($1) == true })
            // createdAt went through.
            #expect(
                await bench.emulator.store.allLicenses().contains {
                    if case .object(let f) = $0 {
                        f["createdAt"] == .string("2021-03-02T00:00:00.0000000Z")
                    } else {
                        false
                    }
                })
            // A rerun changes nothing: conflicts are not retried.
            let rerun = try await bench.run(configuration)
            #expect(rerun.counts.created == 0)
            #expect(await bench.counters.licenseCreateRequests == 5 + 5 + 995)
        }
    }
}

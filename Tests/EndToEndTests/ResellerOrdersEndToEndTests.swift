import Foundation
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Issue 25's reseller orders, end to end with the built binaries: 300 orders from 2 resellers
/// for 60 companies and 150 people, against an emulator that loses 5 % of the answers (after
/// acting) and answers 3 % with a 500 (before), killed with SIGKILL twice and rerun to completion.
@Suite("Reseller orders under faults and kill -9", .serialized)
struct ResellerOrdersEndToEndTests {
    static let orders = 300, people = 150, companies = 60

    static func sheet() -> String {
        "order_id,productId,email,firstName,organization.name,organization.email,reseller.name,reseller.email\n"
            + (0..<orders).map { order in
                let person = order % people
                let company = person % companies
                let reseller = company % 2
                return
                    "O-\(order),prod-1,person\(person)@example.com,Person \(person),Company \(company),it@company\(company).example,"
                    + "Reseller \(reseller),sales@reseller\(reseller).example\n"
            }.joined()
    }

    @Test func exactlyTwoResellersSixtyOrganizationsAndEveryLinkAfterTwoKills() async throws {
        let emulator = try EmulatorProcess(["--no-rate-limit", "--seed", "25", "--latency-ms", "8", "--jitter-ms", "8"])
        let scratch = try Scratch()
        defer { scratch.remove() }
        let file = try scratch.write("resellers.csv", Self.sheet())
        let arguments = [
            "run", file, "--id-column", "order_id", "--concurrency", "4", "--reconcile-delay", "0.1",
            "--retry-base", "0.02", "--retry-cap", "0.2", "--api-url", emulator.url, "--rate", "0",
        ]
        let chaos =
            #""rules":[{"fault":"lost-response","probability":0.05},{"fault":"500","probability":0.03}],"lookupLagMilliseconds":50"#
        // Killed twice: among the organizations' creates, then among the licenses'. The emulator
        // holds the request at that point (never processing it), so each kill lands mid-run.
        for hold in [
            #"{"after":20,"method":"POST","path":"/v3/organizations"}"#,
            #"{"after":150,"method":"POST","path":"/v3/licenses"}"#,
        ] {
            let heldBefore = try await emulator.faultCount("hold")
            try await LifecycleChaosTests.setFaults(emulator, "{\(chaos),\"hold\":\(hold)}")
            let process = try BuiltBinaries.start("licprov", arguments, environment: RunCommandTests.token)
            let deadline = ContinuousClock.now + .seconds(300)
            while process.isRunning, try await emulator.faultCount("hold") <= heldBefore, ContinuousClock.now < deadline
            {
                try await Task.sleep(for: .milliseconds(2))
            }
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            #expect(process.terminationReason == .uncaughtSignal, "the run ended before the kill (held at \(hold))")
        }
        try await LifecycleChaosTests.setFaults(emulator, "{\(chaos)}")
        var last = BuiltBinaries.Outcome(status: -1, stdout: "", stderr: "")
        for _ in 0..<10 where last.status != 0 {
            last = try await BuiltBinaries.runOffPool("licprov", arguments, environment: RunCommandTests.token)
        }
        #expect(last.status == 0, "\(last.stdout)\(last.stderr)")
        try await LifecycleChaosTests.setFaults(emulator, #"{"rules":[]}"#)
        let counters = try await emulator.admin("counters") as? [String: Any] ?? [:]
        let faults = counters["faults"] as? [String: Int] ?? [:]
        let injected = (faults["lost-response"] ?? 0) + (faults["500"] ?? 0)
        #expect(injected > 10, "\(faults)")

        // Exactly 2 resellers, 60 organizations each under its reseller, 150 users each in its organization.
        func byID(_ name: String) async throws -> [String: [String: Any]] {
            var all: [String: [String: Any]] = [:]
            for record in try await emulator.admin(name) as? [[String: Any]] ?? [] {
                all[record["id"] as? String ?? ""] = record
            }
            return all
        }
        let resellers = try await byID("resellers")
        let organizations = try await byID("organizations")
        let users = try await byID("users")
        #expect(resellers.count == 2)
        #expect(Set(resellers.values.compactMap { $0["name"] as? String }) == ["Reseller 0", "Reseller 1"])
        #expect(organizations.count == Self.companies)
        #expect(Set(organizations.values.compactMap { $0["name"] as? String }).count == Self.companies)
        #expect(users.count == Self.people)
        func name(_ record: [String: Any]?) -> String { record?["name"] as? String ?? "" }
        for organization in organizations.values {
            let company = Int(name(organization).dropFirst("Company ".count)) ?? -1
            #expect(
                name(resellers[organization["resellerId"] as? String ?? ""]) == "Reseller \(company % 2)",
                "\(name(organization))")
        }
        for user in users.values {
            let person = Int((user["email"] as? String ?? "").dropFirst("person".count).prefix { $0 != "@" }) ?? -1
            #expect(
                name(organizations[user["organizationId"] as? String ?? ""]) == "Company \(person % Self.companies)",
                "\(user)")
            #expect(
                name(resellers[user["resellerId"] as? String ?? ""]) == "Reseller \(person % Self.companies % 2)",
                "\(user)")
        }
        // 300 licenses, each once, each linked to its person, company and reseller.
        let licenses = try await LifecycleChaosTests.licensesByOrder(emulator)
        #expect(licenses.count == Self.orders)
        #expect(try await emulator.markers().count == Self.orders)
        for (order, license) in licenses {
            let person = (Int(order.dropFirst(2)) ?? 0) % Self.people
            let company = person % Self.companies
            #expect(
                users[license["userId"] as? String ?? ""]?["email"] as? String == "person\(person)@example.com",
                "\(order)")
            #expect(name(organizations[license["organizationId"] as? String ?? ""]) == "Company \(company)", "\(order)")
            #expect(name(resellers[license["resellerId"] as? String ?? ""]) == "Reseller \(company % 2)", "\(order)")
        }
        // The requests: the creates and batched lookups (≤ 300 + 60 + 2 + 150 + 10), plus what the
        // injected faults and the two kills cost (a lookup and a resend each at most).
        let requests = counters["requests"] as? Int ?? 0
        let bound = Self.orders + Self.companies + 2 + Self.people + 10 + 2 * injected + 2 * 10
        #expect(requests <= bound, "\(requests) requests, \(injected) faults injected")
        print("reseller orders: \(requests) requests (bound \(bound)), faults \(faults)")

        // The results file: every order created or recovered, with both ids.
        let results = try scratch.read("resellers.csv.results.csv").split(separator: "\r\n").dropFirst()
        #expect(results.count == Self.orders)
        let cells = results.map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        #expect(
            cells.allSatisfy {
                ["created", "recovered"].contains(String($0[3])) && organizations[String($0[10])] != nil
                    && resellers[String($0[11])] != nil
            })

        // A rerun sends nothing.
        let before = try await emulator.counter("requests")
        let rerun = try await BuiltBinaries.runOffPool("licprov", arguments, environment: RunCommandTests.token)
        #expect(rerun.status == 0, "\(rerun.stdout)\(rerun.stderr)")
        #expect(try await emulator.counter("requests") == before)
        let status = try await BuiltBinaries.runOffPool("licprov", ["status", file, "--json"])
        #expect(
            try status.count("directory", "reseller", "resolved") == 2
                && status.count("directory", "organization", "resolved") == 60,
            "\(status.stdout)")
    }
}

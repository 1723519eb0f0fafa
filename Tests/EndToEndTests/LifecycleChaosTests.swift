import Foundation
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Issue 14's nightly file, end to end with the built binaries: 1,000 creates, 300 renewals,
/// 100 revocations, 100 suspensions, 50 updates and 20 deletes, against an emulator that loses 5 %
/// of the answers (after applying the change) and answers 3 % with a 500 (before), killed with
/// SIGKILL twice and rerun to completion.
@Suite("A nightly file of changes under faults and kill -9", .serialized)
struct LifecycleChaosTests {
    static let old = 570

    @Test func everyRenewalIsAppliedOnceAndEveryOtherChangeApplied() async throws {
        let emulator = try EmulatorProcess(["--no-rate-limit", "--seed", "14", "--latency-ms", "8", "--jitter-ms", "8"])
        let scratch = try Scratch()
        defer { scratch.remove() }
        let api = ["--api-url", emulator.url, "--rate", "0"]

        // Last month's licenses (a run without faults): OLD-1…OLD-570, monthly, ending 31 January.
        let oldFile = try scratch.write(
            "old.csv",
            "order_id,productId,allowedActivations,subscriptionInterval,expiresAt\n"
                + (1...Self.old).map { "OLD-\($0),prod-1,1,P1M,2027-01-31T00:00:00Z\n" }.joined())
        let planted = try await BuiltBinaries.runOffPool(
            "licprov", ["run", oldFile, "--id-column", "order_id"] + api, environment: RunCommandTests.token)
        #expect(planted.status == 0, "\(planted.stdout)\(planted.stderr)")
        let before = try await Self.licensesByOrder(emulator)
        #expect(before.count == Self.old)

        // Tonight's file.
        var rows = ["event_id,action,order_id,productId,allowedActivations"]
        rows += (1...1_000).map { "C-\($0),create,NEW-\($0),prod-1,2" }
        rows += (1...300).map { "R-\($0),renew,OLD-\($0),," }
        rows += (301...400).map { "V-\($0),revoke,OLD-\($0),," }
        rows += (401...500).map { "S-\($0),suspend,OLD-\($0),," }
        rows += (501...550).map { "U-\($0),update,OLD-\($0),,7" }
        rows += (551...570).map { "D-\($0),delete,OLD-\($0),," }
        let nightly = try scratch.write("nightly.csv", rows.joined(separator: "\n") + "\n")
        let chaos =
            #""rules":[{"fault":"lost-response","probability":0.05},{"fault":"500","probability":0.03}],"latencyMilliseconds":20,"jitterMilliseconds":10"#

        let arguments =
            [
                "run", nightly, "--id-column", "event_id", "--target-metadata", "order_id", "--concurrency", "4",
                "--reconcile-delay", "0.1", "--retry-base", "0.02", "--retry-cap", "0.2",
            ] + api
        // Killed twice: once among the creates, once among the changes. The emulator stops
        // answering at that point (a hold: what it holds it never processes), so each kill lands
        // mid-run however slow the machine.
        for hold in [
            #"{"after":400,"method":"POST","path":"/v3/licenses"}"#,
            #"{"after":50,"method":"POST","path":"/v3/licenses/*/renew"}"#,
        ] {
            let heldBefore = try await emulator.faultCount("hold")
            try await Self.setFaults(emulator, "{\(chaos),\"hold\":\(hold)}")
            let process = try BuiltBinaries.start("licprov", arguments, environment: RunCommandTests.token)
            let deadline = ContinuousClock.now + .seconds(120)
            while process.isRunning, try await emulator.faultCount("hold") <= heldBefore, ContinuousClock.now < deadline
            {
                try await Task.sleep(for: .milliseconds(2))
            }
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            #expect(process.terminationReason == .uncaughtSignal, "the run ended before the kill (held at \(hold))")
            #expect(try await BuiltBinaries.runOffPool("licprov", ["status", nightly]).status == 0)
        }
        try await Self.setFaults(emulator, "{\(chaos)}")
        var last = BuiltBinaries.Outcome(status: -1, stdout: "", stderr: "")
        for _ in 0..<10 where last.status != 0 {
            last = try await BuiltBinaries.runOffPool("licprov", arguments, environment: RunCommandTests.token)
        }
        #expect(last.status == 0, "\(last.stdout)\(last.stderr)")
        try await Self.setFaults(emulator, #"{"rules":[]}"#)
        let faults = (try await emulator.admin("counters") as? [String: Any])?["faults"] as? [String: Int] ?? [:]
        #expect((faults["lost-response"] ?? 0) > 20 && (faults["500"] ?? 0) > 10, "\(faults)")

        // The account, license by license.
        let after = try await Self.licensesByOrder(emulator)
        let changes = try await emulator.admin("changes") as? [String: [String: Int]] ?? [:]
        for index in 1...Self.old {
            let order = "OLD-\(index)"
            let id = before[order]?["id"] as? String ?? ""
            let license = after[order]
            let applied = changes[id] ?? [:]
            switch index {
            case 1...300:
                #expect(applied == ["renew": 1], "\(order): \(applied)")
                #expect(
                    (license?["expiresAt"] as? String)?.hasPrefix("2027-02-28") == true,
                    "\(order): \(license?["expiresAt"] ?? "none")")
            case 301...400:
                #expect(license?["revoked"] as? Bool == true, "\(order)")
                #expect(Set(applied.keys) == ["update"], "\(order): \(applied)")
            case 401...500:
                #expect(license?["suspended"] as? Bool == true, "\(order)")
                #expect(Set(applied.keys) == ["update"], "\(order): \(applied)")
            case 501...550:
                #expect(license?["allowedActivations"] as? Int == 7, "\(order)")
                #expect(Set(applied.keys) == ["update"], "\(order): \(applied)")
            default:
                #expect(license == nil, "\(order) still exists")
                #expect(applied == ["delete": 1], "\(order): \(applied)")
            }
            if index <= 300 || index > 550 { continue }
            // Nothing but the change: the expiry of a revoked, suspended or updated license is untouched.
            #expect((license?["expiresAt"] as? String)?.hasPrefix("2027-01-31") == true, "\(order)")
        }
        // Every create exactly once, and nothing else touched.
        let markers = try await emulator.markers()
        #expect(markers.count == Self.old - 20 + 1_000)
        #expect(Set(markers).count == markers.count)
        let newIDs = Set(after.filter { $0.key.hasPrefix("NEW-") }.compactMap { $0.value["id"] as? String })
        #expect(newIDs.count == 1_000)
        #expect(changes.keys.filter(newIDs.contains).isEmpty)
        // The results: one line per row, each done.
        let results = try scratch.read("nightly.csv.results.csv").split(separator: "\r\n").dropFirst()
        #expect(results.count == 1_570)
        let statuses = Dictionary(
            grouping: results.map { $0.split(separator: ",", omittingEmptySubsequences: false)[3] }, by: { String($0) }
        ).mapValues(\.count)
        let done = ["created", "recovered", "renewed", "revoked", "suspended", "updated", "deleted"]
        #expect(statuses.keys.allSatisfy(done.contains), "\(statuses)")
        #expect((statuses["recovered"] ?? 0) > 0, "\(statuses)")
        print("lifecycle chaos: faults \(faults), results \(statuses)")

        // A rerun sends nothing.
        let requests = try await emulator.counter("requests")
        let rerun = try await BuiltBinaries.runOffPool("licprov", arguments, environment: RunCommandTests.token)
        #expect(rerun.status == 0)
        #expect(try await emulator.counter("requests") == requests)
    }

    /// Every license the emulator holds, by its order_id metadata.
    static func licensesByOrder(_ emulator: EmulatorProcess) async throws -> [String: [String: Any]] {
        var byOrder: [String: [String: Any]] = [:]
        for license in try await emulator.admin("licenses") as? [[String: Any]] ?? [] {
            guard
                let order = (license["metadata"] as? [[String: Any]])?.first(where: {
                    $0["key"] as? String == "order_id"
                })?["value"] as? String
            else { continue }
            byOrder[order] = license
        }
        return byOrder
    }

    static func setFaults(_ emulator: EmulatorProcess, _ json: String) async throws {
        var request = URLRequest(url: URL(string: emulator.url + "/__admin/faults")!)
        request.httpMethod = "PUT"
        request.httpBody = Data(json.utf8)
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        let (_, response) = try await URLSession.shared.data(for: request)
        #expect((response as? HTTPURLResponse)?.statusCode == 200)
    }
}

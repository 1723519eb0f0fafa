import Foundation
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Issue 26's nightly sync, end to end with the built binaries, days in a row against an emulator
/// that loses 5 % of the answers (after acting) and answers 3 % with a 500 (before).
@Suite("plan and apply: a nightly sync under faults and kill -9", .serialized)
struct SyncEndToEndTests {
    struct Order {
        var id: Int
        var seats = 2
        var revoked = false
    }

    static func file(_ orders: [Order]) -> String {
        "order_id,productId,allowedActivations,revoked\n"
            + orders.map { "O-\($0.id),prod-1,\($0.seats),\($0.revoked)\n" }.joined()
    }

    static func plan(_ arguments: [String]) async throws -> (status: Int32, plan: [String: Any]) {
        let outcome = try await BuiltBinaries.runOffPool(
            "licprov", ["plan"] + arguments + ["--json"], environment: RunCommandTests.token)
        let plan = (try? JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8))) as? [String: Any] ?? [:]
        #expect(!plan.isEmpty, "\(outcome.stdout)\(outcome.stderr)")
        return (outcome.status, plan)
    }

    static func writes(_ emulator: EmulatorProcess) async throws -> Int {
        let counters = try await emulator.admin("counters") as? [String: Any] ?? [:]
        return ["licenseCreateRequests", "licenseUpdates", "licensesDeleted", "userCreateRequests"].reduce(0) {
            $0 + (counters[$1] as? Int ?? 0)
        }
    }

    @Test func fourNightsOfOneShopsExport() async throws {
        let emulator = try EmulatorProcess(["--no-rate-limit", "--seed", "26", "--latency-ms", "4", "--jitter-ms", "4"])
        let scratch = try Scratch()
        defer { scratch.remove() }
        let chaos = #""rules":[{"fault":"lost-response","probability":0.05},{"fault":"500","probability":0.03}]"#
        try await LifecycleChaosTests.setFaults(emulator, "{\(chaos)}")
        let path = try scratch.write("shop.csv", Self.file((1...150).map { Order(id: $0) }))
        let common = [path, "--id-column", "order_id", "--api-url", emulator.url, "--rate", "0"]
        let apply =
            ["apply"] + common + [
                "--yes", "--concurrency", "4", "--reconcile-delay", "0.1", "--retry-base", "0.02", "--retry-cap", "0.2",
            ]

        // Day 1: 150 orders → 150 created.
        var last = BuiltBinaries.Outcome(status: -1, stdout: "", stderr: "")
        for _ in 0..<5 where last.status != 0 {
            last = try await BuiltBinaries.runOffPool("licprov", apply, environment: RunCommandTests.token)
        }
        #expect(last.status == 0, "\(last.stdout)\(last.stderr)")
        #expect(try await LifecycleChaosTests.licensesByOrder(emulator).count == 150)

        // Day 2: 10 seat changes, 5 refunds, 10 orders gone, 20 new; 3 licenses edited by hand.
        var day2 = (1...140).map { Order(id: $0) } + (151...170).map { Order(id: $0) }
        for index in 0..<10 { day2[index].seats = 5 }
        for index in 10..<15 { day2[index].revoked = true }
        try Self.file(day2).write(toFile: path, atomically: true, encoding: .utf8)
        let before = try await LifecycleChaosTests.licensesByOrder(emulator)
        try await LifecycleChaosTests.setFaults(emulator, #"{"rules":[]}"#)
        for order in ["O-21", "O-22", "O-23"] {
            let id = before[order]?["id"] as? String ?? ""
            #expect(
                try await AuditUndoTests.call(emulator, "PATCH", "/v3/licenses/\(id)", #"{"allowedActivations":9}"#)
                    == 200)
        }
        let (planned, plan) = try await Self.plan(common + ["--prune", "suspend", "--detailed-exitcode"])
        #expect(planned == 2)
        let steps = plan["steps"] as? [[String: Any]] ?? []
        let kinds = Dictionary(
            grouping: steps, by: { ($0["kind"] as? String ?? "") + ($0["prune"] as? Bool == true ? " (prune)" : "") }
        ).mapValues(\.count)
        #expect(kinds == ["create": 20, "update": 13, "revoke": 5, "suspend (prune)": 10], "\(kinds)")
        #expect(
            steps.filter { $0["drift"] as? Bool == true }.compactMap { $0["order"] as? String }.sorted() == [
                "O-21", "O-22", "O-23",
            ])
        #expect(steps.filter { $0["drift"] as? Bool == false }.count == 15)
        let requestsBefore = try await emulator.counter("requests")

        // Applied, killed twice (among the creates, then among the changes), resumed.
        let pruned = apply + ["--prune", "suspend"]
        for hold in [
            #"{"after":8,"method":"POST","path":"/v3/licenses"}"#,
            #"{"after":6,"method":"PATCH","path":"/v3/licenses/*"}"#,
        ] {
            let heldBefore = try await emulator.faultCount("hold")
            try await LifecycleChaosTests.setFaults(emulator, "{\(chaos),\"hold\":\(hold)}")
            let process = try BuiltBinaries.start("licprov", pruned, environment: RunCommandTests.token)
            let deadline = ContinuousClock.now + .seconds(300)
            while process.isRunning, try await emulator.faultCount("hold") <= heldBefore, ContinuousClock.now < deadline
            {
                try await Task.sleep(for: .milliseconds(2))
            }
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            #expect(process.terminationReason == .uncaughtSignal, "the apply ended before the kill (held at \(hold))")
        }
        try await LifecycleChaosTests.setFaults(emulator, "{\(chaos)}")
        last = BuiltBinaries.Outcome(status: -1, stdout: "", stderr: "")
        for _ in 0..<10 where last.status != 0 {
            last = try await BuiltBinaries.runOffPool("licprov", pruned, environment: RunCommandTests.token)
        }
        #expect(last.status == 0, "\(last.stdout)\(last.stderr)")
        try await LifecycleChaosTests.setFaults(emulator, #"{"rules":[]}"#)
        #expect(try await emulator.counter("requests") > requestsBefore)
        let faults = (try await emulator.admin("counters") as? [String: Any])?["faults"] as? [String: Int] ?? [:]
        #expect((faults["lost-response"] ?? 0) + (faults["500"] ?? 0) > 5, "\(faults)")
        print(
            "sync day 2: faults \(faults); last apply: \(last.stdout.split(separator: "\n").last { $0.hasPrefix("licenses") } ?? "")"
        )

        // The account equals the file, field by field, and nothing else changed.
        let after = try await LifecycleChaosTests.licensesByOrder(emulator)
        #expect(try await emulator.markers().count == 170)
        #expect(Set(try await emulator.markers()).count == 170)
        for order in day2 {
            let license = after["O-\(order.id)"]
            #expect(license?["allowedActivations"] as? Int == order.seats, "O-\(order.id)")
            #expect((license?["revoked"] as? Bool ?? false) == order.revoked, "O-\(order.id)")
            #expect((license?["suspended"] as? Bool ?? false) == false, "O-\(order.id)")
        }
        for id in 141...150 {
            #expect(after["O-\(id)"]?["suspended"] as? Bool == true, "O-\(id)")
            #expect(after["O-\(id)"]?["allowedActivations"] as? Int == 2, "O-\(id)")
        }
        let changes = try await emulator.admin("changes") as? [String: [String: Int]] ?? [:]
        let changed = Set(changes.keys)
        let expectedChanged = Set(
            (Array(1...15) + [21, 22, 23] + Array(141...150)).compactMap { before["O-\($0)"]?["id"] as? String })
        // Each change once (the hand edits of O-21…O-23 were one PATCH each too).
        #expect(
            changed == expectedChanged,
            "\(changed.subtracting(expectedChanged)) \(expectedChanged.subtracting(changed))")
        for order in Array(1...15) + Array(141...150) {
            #expect(changes[before["O-\(order)"]?["id"] as? String ?? ""] == ["update": 1], "O-\(order)")
        }
        for order in 21...23 {
            #expect(
                changes[before["O-\(order)"]?["id"] as? String ?? ""] == ["update": 2],
                "O-\(order): the edit by hand, then the restore")
        }

        // Day 3: the same file → nothing to do, and apply sends no write.
        let (status3, plan3) = try await Self.plan(common + ["--prune", "suspend", "--detailed-exitcode"])
        #expect(status3 == 0)
        #expect((plan3["steps"] as? [Any])?.isEmpty == true)
        let writes = try await Self.writes(emulator)
        let quiet = try await BuiltBinaries.runOffPool("licprov", pruned, environment: RunCommandTests.token)
        #expect(quiet.status == 0)
        #expect(try await Self.writes(emulator) == writes)

        // Day 4: a truncated export of 10 rows with --prune suspend → refused, nothing sent.
        try Self.file(Array(day2.prefix(10))).write(toFile: path, atomically: true, encoding: .utf8)
        let refused = try await BuiltBinaries.runOffPool("licprov", pruned, environment: RunCommandTests.token)
        #expect(refused.status == 78, "\(refused.stdout)\(refused.stderr)")
        #expect(refused.stderr.contains("would suspend 150 of 170 managed licenses"), "\(refused.stderr)")
        #expect(try await Self.writes(emulator) == writes)
    }

    /// A plan saved with -o is applied as it is; one the account moved away from is refused (79),
    /// nothing sent; a fresh plan of the same file applies.
    @Test func aStaleSavedPlanIsRefusedAndAFreshOneApplies() async throws {
        let emulator = try EmulatorProcess(["--no-rate-limit"])
        let scratch = try Scratch()
        defer { scratch.remove() }
        let path = try scratch.write("shop.csv", Self.file((1...5).map { Order(id: $0) }))
        let common = [path, "--id-column", "order_id", "--api-url", emulator.url, "--rate", "0"]
        #expect(
            try await BuiltBinaries.runOffPool(
                "licprov", ["apply"] + common + ["--yes"], environment: RunCommandTests.token
            ).status == 0)
        try Self.file((1...5).map { Order(id: $0, seats: $0 == 2 ? 7 : 2) }).write(
            toFile: path, atomically: true, encoding: .utf8)
        let saved = scratch.path + "/plan.json"
        #expect(
            try await BuiltBinaries.runOffPool(
                "licprov", ["plan"] + common + ["-o", saved], environment: RunCommandTests.token
            ).status == 0)
        let licenses = try await LifecycleChaosTests.licensesByOrder(emulator)
        #expect(
            try await AuditUndoTests.call(
                emulator, "PATCH", "/v3/licenses/\(licenses["O-2"]?["id"] as? String ?? "")", #"{"notes":"by hand"}"#)
                == 200)
        let writes = try await Self.writes(emulator)
        let stale = try await BuiltBinaries.runOffPool(
            "licprov", ["apply", saved, "--api-url", emulator.url, "--rate", "0", "--yes"],
            environment: RunCommandTests.token)
        #expect(stale.status == 79, "\(stale.stdout)\(stale.stderr)")
        #expect(stale.stderr.contains("the saved plan is stale") && stale.stderr.contains("O-2"), "\(stale.stderr)")
        #expect(try await Self.writes(emulator) == writes)

        #expect(
            try await BuiltBinaries.runOffPool(
                "licprov", ["plan"] + common + ["-o", saved], environment: RunCommandTests.token
            ).status == 0)
        let fresh = try await BuiltBinaries.runOffPool(
            "licprov", ["apply", saved, "--api-url", emulator.url, "--rate", "0", "--yes"],
            environment: RunCommandTests.token)
        #expect(fresh.status == 0, "\(fresh.stdout)\(fresh.stderr)")
        #expect(try await LifecycleChaosTests.licensesByOrder(emulator)["O-2"]?["allowedActivations"] as? Int == 7)
    }

    /// Metadata per key: the file's entry changes, licprov's marker and the order id stay (the
    /// update sends the whole list); the next plan finds nothing to do.
    @Test func metadataChangesPerKeyKeepLicprovsEntries() async throws {
        let emulator = try EmulatorProcess(["--no-rate-limit"])
        let scratch = try Scratch()
        defer { scratch.remove() }
        let path = try scratch.write(
            "shop.csv", "order_id,productId,metadata.plan\nM-1,prod-1,basic\nM-2,prod-1,basic\n")
        let common = [path, "--id-column", "order_id", "--api-url", emulator.url, "--rate", "0"]
        #expect(
            try await BuiltBinaries.runOffPool(
                "licprov", ["apply"] + common + ["--yes"], environment: RunCommandTests.token
            ).status == 0)
        let marker =
            (try await LifecycleChaosTests.licensesByOrder(emulator)["M-1"]?["metadata"] as? [[String: Any]])?
            .first { $0["key"] as? String == "licprov_request" }?["value"] as? String
        #expect(marker != nil)
        try "order_id,productId,metadata.plan\nM-1,prod-1,pro\nM-2,prod-1,basic\n".write(
            toFile: path, atomically: true, encoding: .utf8)
        let plan = try await BuiltBinaries.runOffPool("licprov", ["plan"] + common, environment: RunCommandTests.token)
        #expect(plan.stdout.contains("metadata.plan basic → pro"), "\(plan.stdout)")
        let applied = try await BuiltBinaries.runOffPool(
            "licprov", ["apply"] + common + ["--yes"], environment: RunCommandTests.token)
        #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
        let entries =
            (try await LifecycleChaosTests.licensesByOrder(emulator)["M-1"]?["metadata"] as? [[String: Any]] ?? [])
            .map { "\($0["key"] as? String ?? "")=\($0["value"] as? String ?? "")" }
        #expect(entries == ["plan=pro", "order_id=M-1", "licprov_request=\(marker ?? "")"])
        let again = try await SyncEndToEndTests.plan(common + ["--detailed-exitcode"])
        #expect(again.status == 0)
    }
}

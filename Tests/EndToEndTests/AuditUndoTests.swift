import Foundation
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// `licprov audit` and `licprov undo` with the built binaries (issue 15's scenario).
@Suite("audit and undo, end to end", .serialized)
struct AuditUndoTests {
    /// A run made with its own --marker-key records it in the journal: audit, export, undo and a
    /// rerun use it without the flag, and a flag that disagrees is refused before anything is sent.
    @Test func aRunsMarkerKeyIsTheJournalsAuditAndUndoNeedNoFlag() async throws {
        let emulator = try EmulatorProcess(["--no-rate-limit"])
        let scratch = try Scratch()
        defer { scratch.remove() }
        let api = ["--api-url", emulator.url, "--rate", "0", "--progress", "none"]
        let file = try scratch.write("orders.csv", orderFile(12))
        let run = try await BuiltBinaries.runOffPool(
            "licprov", ["run", file, "--id-column", "order_id", "--marker-key", "my_marker"] + api,
            environment: RunCommandTests.token)
        #expect(run.status == 0, "\(run.stderr)")
        let licenses = try await emulator.admin("licenses") as? [[String: Any]] ?? []
        #expect(licenses.count == 12)
        #expect(
            licenses.allSatisfy {
                (($0["metadata"] as? [[String: Any]]) ?? []).contains { $0["key"] as? String == "my_marker" }
            })

        // audit without the flag: every license found by its marker under the journal's key.
        let audit = try await BuiltBinaries.runOffPool(
            "licprov", ["audit", file, "-o", scratch.path + "/audit.csv", "--api-url", emulator.url, "--rate", "0"],
            environment: RunCommandTests.token)
        #expect(audit.status == 0, "\(audit.stderr)")
        let findings = try scratch.read("audit.csv").split(whereSeparator: \.isNewline).dropFirst().map {
            $0.split(separator: ",").first.map(String.init)
        }
        #expect(findings.count == 12 && findings.allSatisfy { $0 == "ok" }, "\(findings)")

        // A flag that disagrees, on audit or on a rerun: a usage error naming both keys; nothing sent.
        let before = try await emulator.counter("requests")
        for arguments in [
            ["audit", file, "--marker-key", "licprov_request"],
            ["run", file, "--id-column", "order_id", "--marker-key", "other"],
            ["run", file, "--id-column", "order_id", "--no-marker"],
        ] {
            let refused = try await BuiltBinaries.runOffPool(
                "licprov",
                arguments + api.filter { $0 != "--progress" && $0 != "none" }
                    + (arguments[0] == "run" ? ["--progress", "none"] : []),
                environment: RunCommandTests.token)
            #expect(refused.status == 64, "\(arguments): \(refused.stderr)")
            #expect(refused.stderr.contains("\"my_marker\""), "\(refused.stderr)")
        }
        #expect(try await emulator.counter("requests") == before)
        // A rerun without the flag sends nothing: every row is already done under the journal's key.
        let rerun = try await BuiltBinaries.runOffPool(
            "licprov", ["run", file, "--id-column", "order_id", "--json"] + api, environment: RunCommandTests.token)
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(rerun.stdout.utf8)) as? [String: Any])
        #expect(summary["alreadyDone"] as? Int == 12 && summary["requests"] as? Int == 0, "\(summary)")

        // undo without the flag takes all twelve back.
        let undo = try await BuiltBinaries.runOffPool(
            "licprov", ["undo", file, "--yes", "--json"] + api, environment: RunCommandTests.token)
        #expect(undo.status == 0, "\(undo.stdout)\(undo.stderr)")
        #expect((try await emulator.admin("licenses") as? [[String: Any]] ?? []).isEmpty)
    }

    @Test func auditFindsTheDuplicateAndTheMissingThenUndoTakesTheRunBack() async throws {
        let emulator = try EmulatorProcess(["--no-rate-limit", "--seed", "15", "--latency-ms", "8", "--jitter-ms", "8"])
        let scratch = try Scratch()
        defer { scratch.remove() }
        let api = ["--api-url", emulator.url, "--rate", "0"]
        // 20 licenses from another journal (someone else's batch), then the run: 300 creates.
        let unrelatedFile = try scratch.write(
            "unrelated.csv", "order_id,productId\n" + (1...20).map { "U-\($0),prod-1\n" }.joined())
        #expect(
            try await BuiltBinaries.runOffPool(
                "licprov", ["run", unrelatedFile, "--id-column", "order_id"] + api, environment: RunCommandTests.token
            ).status == 0)
        let unrelated = try await Self.ids(emulator)
        let file = try scratch.write("orders.csv", orderFile(300))
        #expect(
            try await BuiltBinaries.runOffPool(
                "licprov", ["run", file, "--id-column", "order_id"] + api, environment: RunCommandTests.token
            ).status == 0)

        let clean = try await BuiltBinaries.runOffPool(
            "licprov", ["audit", file, "--json"] + api, environment: RunCommandTests.token)
        #expect(clean.status == 0, "\(clean.stderr)")
        #expect(
            try clean.count("ok") == 300 && clean.count("duplicate") == 0 && clean.count("missing") == 0
                && clean.count("changed") == 0
                && clean.count("unknown") == 0, "\(clean.stdout)")
        #expect(
            clean.stderr.contains("audit: ok 300, duplicate 0, missing 0, changed 0, unknown 0"), "the line people read"
        )

        // Plant a duplicate of E-7 and delete E-12's license by hand.
        let results = try scratch.read("orders.csv.results.csv").split(separator: "\r\n").dropFirst().map {
            $0.split(separator: ",").map(String.init)
        }
        let e12 = try #require(results.first { $0[1] == "E-12" }?[4])
        let marker = try #require(try await Self.marker(emulator, ofOrder: "E-7"))
        _ = try await Self.call(
            emulator, "POST", "/v3/licenses",
            #"{"productId":"prod-1","metadata":[{"key":"licprov_request","value":"\#(marker)"}]}"#)
        _ = try await Self.call(emulator, "DELETE", "/v3/licenses/\(e12)", nil)

        let before = try await emulator.counter("requests")
        let audit = try await BuiltBinaries.runOffPool(
            "licprov", ["audit", file, "-o", scratch.path + "/audit.csv", "--json"] + api,
            environment: RunCommandTests.token)
        #expect(audit.status == 1)
        #expect(try await emulator.counter("requests") - before <= 5 + 300 / 100)
        #expect(
            try audit.count("ok") == 298 && audit.count("duplicate") == 1 && audit.count("missing") == 1
                && audit.count("changed") == 0
                && audit.count("unknown") == 0, "\(audit.stdout)")
        let findings = try scratch.read("audit.csv").split(separator: "\r\n").map(String.init)
        #expect(findings.first == "finding,row_id,unit,source_line,marker,license_ids,detail")
        #expect(findings.filter { $0.hasPrefix("duplicate,E-7,") }.count == 1)
        #expect(findings.filter { $0.hasPrefix("missing,E-12,") }.count == 1)

        // --fix-duplicates deletes the planted extra, keeping the run's own license.
        let fixed = try await BuiltBinaries.runOffPool(
            "licprov", ["audit", file, "--fix-duplicates", "-o", scratch.path + "/audit2.csv"] + api,
            environment: RunCommandTests.token)
        #expect(fixed.status == 1)  // the findings were not clean when the audit ran
        #expect(try await Self.markers(emulator).filter { $0 == marker }.count == 1)

        // Undo: refused without a terminal unless --yes; a dry run sends nothing.
        let refused = try await BuiltBinaries.runOffPool(
            "licprov", ["undo", file] + api, environment: RunCommandTests.token)
        #expect(refused.status == 64)
        #expect(refused.stderr.contains("--yes"))
        let requestsBeforeDryRun = try await emulator.counter("requests")
        let dry = try await BuiltBinaries.runOffPool(
            "licprov", ["undo", file, "--dry-run"] + api, environment: RunCommandTests.token)
        #expect(dry.status == 0, "\(dry.stdout)\(dry.stderr)")
        #expect(dry.stdout.contains("delete 300 licenses it created"))
        #expect(try await emulator.counter("requests") == requestsBeforeDryRun)

        // Undo with 5 % lost answers, killed once, run again to the end. The emulator stops
        // answering deletes after 50 (a hold), so the kill lands mid-run however slow the machine.
        try await LifecycleChaosTests.setFaults(
            emulator,
            #"{"rules":[{"fault":"lost-response","probability":0.05}],"latencyMilliseconds":30,"hold":{"after":50,"method":"DELETE"}}"#
        )
        let arguments = ["undo", file, "--yes", "--reconcile-delay", "0.1", "--concurrency", "4"] + api
        let process = try BuiltBinaries.start("licprov", arguments, environment: RunCommandTests.token)
        let deadline = ContinuousClock.now + .seconds(120)
        while process.isRunning, try await emulator.faultCount("hold") < 1, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(2))
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal, "the undo ended before the kill")
        try await LifecycleChaosTests.setFaults(
            emulator, #"{"rules":[{"fault":"lost-response","probability":0.05}],"latencyMilliseconds":30}"#)
        var last = BuiltBinaries.Outcome(status: -1, stdout: "", stderr: "")
        for _ in 0..<10 where last.status != 0 {
            last = try await BuiltBinaries.runOffPool("licprov", arguments, environment: RunCommandTests.token)
        }
        #expect(last.status == 0, "\(last.stdout)\(last.stderr)")
        try await LifecycleChaosTests.setFaults(emulator, #"{"rules":[]}"#)

        // None of the run's licenses is left; the 20 unrelated ones are untouched.
        let remaining = try await Self.ids(emulator)
        #expect(remaining == unrelated)
        let changes = try await emulator.admin("changes") as? [String: [String: Int]] ?? [:]
        #expect(unrelated.allSatisfy { changes[$0] == nil })
        #expect(changes.values.allSatisfy { $0["delete"] == 1 })  // nothing deleted twice
        // A second undo sends nothing.
        let requests = try await emulator.counter("requests")
        let again = try await BuiltBinaries.runOffPool("licprov", arguments, environment: RunCommandTests.token)
        #expect(again.status == 0)
        #expect(try await emulator.counter("requests") == requests)
    }

    static func ids(_ emulator: EmulatorProcess) async throws -> Set<String> {
        Set((try await emulator.admin("licenses") as? [[String: Any]] ?? []).compactMap { $0["id"] as? String })
    }

    static func markers(_ emulator: EmulatorProcess) async throws -> [String] {
        try await emulator.markers()
    }

    static func marker(_ emulator: EmulatorProcess, ofOrder order: String) async throws -> String? {
        for license in try await emulator.admin("licenses") as? [[String: Any]] ?? [] {
            let metadata = license["metadata"] as? [[String: Any]] ?? []
            if metadata.contains(where: { $0["key"] as? String == "order_id" && $0["value"] as? String == order }) {
                return metadata.first { $0["key"] as? String == "licprov_request" }?["value"] as? String
            }
        }
        return nil
    }

    /// A request to the emulator's `/v3` API with the test token.
    static func call(_ emulator: EmulatorProcess, _ method: String, _ path: String, _ body: String?) async throws -> Int
    {
        var request = URLRequest(url: URL(string: emulator.url + path)!)
        request.httpMethod = method
        request.setValue("Bearer e2e-token", forHTTPHeaderField: "Authorization")
        if let body {
            request.httpBody = Data(body.utf8)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let (_, response) = try await URLSession.shared.data(for: request)
        return (response as? HTTPURLResponse)?.statusCode ?? -1
    }
}

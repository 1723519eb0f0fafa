import Foundation
import Testing

/// `licprov job CONFIG` as the systemd unit runs it, and `apply` with every sending option of
/// `run`: a nightly sync writes the same metrics, summary and results a run writes, its state
/// where the unit says, nothing beside the export.
@Suite("Unattended jobs", .serialized)
struct UnattendedJobTests {
    /// What a unit passes after the config (packaging/systemd/licprov-sync@.service).
    static func unitFlags(state: String, token: String) -> [String] {
        [
            "--token-file", token, "--journal", state + "/journal.sqlite", "--results", state + "/results.csv",
            "--metrics-file", state + "/licprov.prom", "--progress", "none", "--json",
        ]
    }

    /// The one JSON object a `--json` run prints on stdout (nothing else is there).
    static func summary(_ stdout: String) throws -> [String: Any] {
        let lines = stdout.split(separator: "\n")
        #expect(lines.count == 1, "stdout holds more than the summary: \(stdout)")
        return try #require(try JSONSerialization.jsonObject(with: Data(stdout.utf8)) as? [String: Any])
    }

    @Test func aNightlyApplyJobWritesWhatARunWritesAndItsStateWhereTheUnitSays() async throws {
        let emulator = try EmulatorProcess(["--no-rate-limit"])
        let scratch = try Scratch()
        defer { scratch.remove() }
        try FileManager.default.createDirectory(atPath: scratch.path + "/exports", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: scratch.path + "/state", withIntermediateDirectories: true)
        let export = try scratch.write("exports/nightly.csv", orderFile(6))
        let token = try scratch.write("token", "e2e-token\n")
        chmod(token, 0o600)
        let config = try scratch.write(
            "nightly.toml",
            """
            api-url = "\(emulator.url)"
            id-column = "order_id"
            rate = 0

            [job]
            command = "apply"
            file = "\(export)"
            """)
        let state = scratch.path + "/state"
        let job = ["job", config] + Self.unitFlags(state: state, token: token)

        // Night 1: six creates, with no terminal and no --yes (the job is the consent).
        let first = try await BuiltBinaries.runOffPool("licprov", job, environment: [:])
        #expect(first.status == 0, "\(first.stdout)\(first.stderr)")
        let night1 = try Self.summary(first.stdout)
        #expect(night1["created"] as? Int == 6)
        #expect(night1["exitCode"] as? Int == 0)
        #expect(night1["results"] as? String == state + "/results.csv")
        #expect(first.stderr.contains("+ create E-1"), "the plan goes to stderr with --json: \(first.stderr)")
        let licenses = try await emulator.admin("licenses") as? [[String: Any]] ?? []
        #expect(licenses.count == 6)
        let results = try String(contentsOfFile: state + "/results.csv", encoding: .utf8)
        #expect(results.split(whereSeparator: \.isNewline).count == 7)
        #expect(
            Set(try FileManager.default.contentsOfDirectory(atPath: scratch.path + "/exports")) == ["nightly.csv"],
            "the job wrote beside the export, which a unit's ProtectSystem=strict would refuse")

        // The same metric families a run writes, with the job's counts and the export as the label.
        let metrics = try MetricsFileTests.parse(String(contentsOfFile: state + "/licprov.prom", encoding: .utf8))
        let runFile = try scratch.write("run.csv", orderFile(2, from: 100))
        let run = try await BuiltBinaries.runOffPool(
            "licprov",
            [
                "run", runFile, "--id-column", "order_id", "--api-url", emulator.url, "--rate", "0",
                "--metrics-file", scratch.path + "/run.prom", "--progress", "none",
            ],
            environment: RunCommandTests.token)
        #expect(run.status == 0)
        let runMetrics = try MetricsFileTests.parse(String(contentsOfFile: scratch.path + "/run.prom", encoding: .utf8))
        #expect(Set(metrics.keys) == Set(runMetrics.keys))
        #expect(metrics["licprov_run_licenses"]?.first { $0.labels["status"] == "created" }?.value == 6)
        #expect(metrics["licprov_run_licenses"]?.first?.labels["file"] == export)
        #expect(metrics["licprov_run_exit_code"]?.first?.value == 0)
        let success = try #require(metrics["licprov_last_success_timestamp_seconds"]?.first?.value)

        // Night 2, nothing changed: still a success, said as a run's summary and metrics with zeros.
        let second = try await BuiltBinaries.runOffPool("licprov", job, environment: [:])
        #expect(second.status == 0, "\(second.stdout)\(second.stderr)")
        let night2 = try Self.summary(second.stdout)
        #expect(night2["created"] as? Int == 0)
        #expect(night2["outcome"] as? String == "finished")
        let quiet = try MetricsFileTests.parse(String(contentsOfFile: state + "/licprov.prom", encoding: .utf8))
        #expect(Set(quiet.keys) == Set(runMetrics.keys))
        #expect(quiet["licprov_run_licenses"]?.first { $0.labels["status"] == "created" }?.value == 0)
        #expect(try #require(quiet["licprov_last_success_timestamp_seconds"]?.first?.value) >= success)

        // Night 3, a token the API refuses: exit 77 (not 69, which the unit retries), said in the metrics, the last success kept.
        _ = try scratch.write("token", "not-the-token\n")
        let refused = try await BuiltBinaries.runOffPool("licprov", job, environment: [:])
        #expect(refused.status == 77, "\(refused.stdout)\(refused.stderr)")
        let failed = try MetricsFileTests.parse(String(contentsOfFile: state + "/licprov.prom", encoding: .utf8))
        #expect(failed["licprov_run_exit_code"]?.first?.value == 77)
        #expect(
            failed["licprov_last_success_timestamp_seconds"]?.first?.value
                == quiet["licprov_last_success_timestamp_seconds"]?.first?.value)
        #expect(!refused.stderr.contains("not-the-token") && !refused.stdout.contains("not-the-token"))
    }

    @Test func applyTakesEverySendingOptionOfRun() async throws {
        let emulator = try EmulatorProcess(["--no-rate-limit"])
        let scratch = try Scratch()
        defer { scratch.remove() }
        let export = try scratch.write("orders.csv", orderFile(3))
        // Each of these was a usage error (64) for apply before: only run took them.
        let flags = [
            "--progress", "none", "--log-level", "warning", "--log-format", "json", "--max-429s", "50",
            "--stall-timeout", "120",
            "--unreachable-timeout", "30", "--max-attempts", "4", "--request-timeout", "20", "--burst", "2",
            "--window-limit", "40",
            "--max-failures", "5", "--concurrency", "2", "--results", scratch.path + "/applied.csv", "--json",
            "--metrics-file", scratch.path + "/apply.prom",
        ]
        let apply = try await BuiltBinaries.runOffPool(
            "licprov",
            ["apply", export, "--id-column", "order_id", "--api-url", emulator.url, "--rate", "0", "--yes"] + flags,
            environment: RunCommandTests.token)
        #expect(apply.status == 0, "\(apply.stdout)\(apply.stderr)")
        #expect(try Self.summary(apply.stdout)["created"] as? Int == 3)
        #expect(FileManager.default.fileExists(atPath: scratch.path + "/applied.csv"))
        #expect(FileManager.default.fileExists(atPath: scratch.path + "/apply.prom"))
        // undo takes them too, and undoes the apply's three creates.
        let undo = try await BuiltBinaries.runOffPool(
            "licprov",
            ["undo", "--journal", export + ".apply.sqlite", "--api-url", emulator.url, "--rate", "0", "--yes"]
                + flags.map {
                    $0.replacingOccurrences(of: "applied.csv", with: "undone.csv").replacingOccurrences(
                        of: "apply.prom", with: "undo.prom")
                },
            environment: RunCommandTests.token)
        #expect(undo.status == 0, "\(undo.stdout)\(undo.stderr)")
        #expect(FileManager.default.fileExists(atPath: scratch.path + "/undone.csv"))
        let undoMetrics = try MetricsFileTests.parse(
            String(contentsOfFile: scratch.path + "/undo.prom", encoding: .utf8))
        #expect(undoMetrics["licprov_run_licenses"]?.first { $0.labels["status"] == "changed" }?.value == 3)
        let left = try await emulator.admin("licenses") as? [[String: Any]] ?? []
        #expect(left.isEmpty)
    }
}

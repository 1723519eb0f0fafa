import Foundation
import Testing

/// What people and cron jobs see: progress, summaries, dry runs.
@Suite("Operator experience, end to end", .serialized)
struct OperatorTests {
    func run(_ arguments: [String], environment: [String: String] = RunCommandTests.token) throws
        -> BuiltBinaries.Outcome
    {
        try BuiltBinaries.run("licprov", arguments, environment: environment)
    }

    @Test(
        .enabled(
            if: FileManager.default.isExecutableFile(atPath: "/usr/bin/script"), "needs script(1) for a pseudo-terminal"
        ))
    func theBarRendersAndFinishesOnARealTerminal() async throws {
        let emulator = try EmulatorProcess(["--no-rate-limit", "--latency-ms", "20"])
        let scratch = try Scratch()
        defer { scratch.remove() }
        let file = try scratch.write("orders.csv", orderFile(30))
        // script(1) gives licprov a pseudo-terminal for stderr and stdout, as a person's shell would.
        let command = [
            BuiltBinaries.directory.appendingPathComponent("licprov").path, "run", file, "--id-column", "order_id",
            "--api-url", emulator.url, "--rate", "0", "--concurrency", "2",
        ].joined(separator: " ")
        let outcome = try BuiltBinaries.runTool(
            "/usr/bin/script", ["-qec", command, "/dev/null"], environment: RunCommandTests.token)
        #expect(outcome.status == 0, "\(outcome.stdout)")
        #expect(outcome.stdout.contains("\r\u{1B}[2K["))
        #expect(outcome.stdout.contains("] 30/30 100%"))
        #expect(outcome.stdout.contains("done · retries 0"))
    }

    @Test func plainLinesWhenNotATerminalAndJSONLinesThatParse() async throws {
        let emulator = try EmulatorProcess(["--no-rate-limit", "--latency-ms", "10"])
        let scratch = try Scratch()
        defer { scratch.remove() }
        let file = try scratch.write("orders.csv", orderFile(10))
        let plain = try run([
            "run", file, "--id-column", "order_id", "--api-url", emulator.url, "--rate", "0", "--journal",
            scratch.path + "/plain.sqlite",
        ])
        #expect(plain.status == 0)
        #expect(plain.stderr.contains("10/10 settled"))
        #expect(!plain.stderr.contains("\u{1B}"))

        let json = try run([
            "run", file, "--id-column", "order_id", "--api-url", emulator.url, "--rate", "0", "--progress", "json",
            "--journal", scratch.path + "/json.sqlite", "--json",
        ])
        #expect(json.status == 0)
        let progress = try json.stderr.split(separator: "\n").map {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        #expect(progress.last??["final"] as? Bool == true)
        #expect(progress.last??["done"] as? Int == 10)
        let summary = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        #expect(summary?["created"] as? Int == 10)
        #expect(summary?["exitCode"] as? Int == 0)
        #expect(summary?["outcome"] as? String == "finished")
    }

    @Test func jsonLogsAreOneObjectPerLine() async throws {
        let emulator = try EmulatorProcess()
        let scratch = try Scratch()
        defer { scratch.remove() }
        let file = try scratch.write("orders.csv", orderFile(2))
        let outcome = try run([
            "run", file, "--id-column", "order_id", "--api-url", emulator.url, "--rate", "0",
            "--log-format", "json", "--log-level", "debug", "--progress", "none",
        ])
        #expect(outcome.status == 0)
        let lines = outcome.stderr.split(separator: "\n")
        #expect(lines.count >= 3)
        for line in lines {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(object?["level"] != nil && object?["message"] != nil, "\(line)")
        }
    }

    @Test func aDryRunSendsNothingWritesNothingAndShowsTheBodies() async throws {
        let emulator = try EmulatorProcess()
        let scratch = try Scratch()
        defer { scratch.remove() }
        let file = try scratch.write("orders.csv", orderFile(3))
        // No token is needed: nothing is sent.
        let dry = try run(
            ["run", file, "--id-column", "order_id", "--api-url", emulator.url, "--dry-run", "--json"],
            environment: ["CRYPTLEX_ACCESS_TOKEN": ""])
        #expect(dry.status == 0, "\(dry.stderr)")
        #expect(try dry.count("wouldSend") == 3)
        let samples = try dry.json()["sampleRequests"] as? [String] ?? []
        #expect(samples.first?.hasPrefix(#"POST /v3/licenses {"allowedActivations":2"#) == true, "\(samples)")
        #expect(try await emulator.counter("requests") == 0)
        #expect(!FileManager.default.fileExists(atPath: file + ".licprov.sqlite"))
        #expect(!FileManager.default.fileExists(atPath: file + ".results.csv"))

        // After a real run, the dry run says what a rerun would skip.
        #expect(
            try run(["run", file, "--id-column", "order_id", "--api-url", emulator.url, "--rate", "0"]).status == 0)
        _ = try scratch.write("orders.csv", orderFile(5))
        let again = try run(["run", file, "--id-column", "order_id", "--api-url", emulator.url, "--dry-run", "--json"])
        #expect(try again.count("wouldSend") == 2 && again.count("alreadyDone") == 3)
        #expect(try await emulator.counter("licenseCreateRequests") == 3)
    }
}

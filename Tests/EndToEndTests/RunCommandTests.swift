import Foundation
import Testing

/// `licprov run`, `status` and `export` as built binaries against a spawned emulator.
@Suite("licprov run, end to end", .serialized)
struct RunCommandTests {
    static let token = ["CRYPTLEX_ACCESS_TOKEN": "e2e-token"]

    func run(_ arguments: [String], environment: [String: String] = RunCommandTests.token) throws
        -> BuiltBinaries.Outcome
    {
        try BuiltBinaries.run("licprov", arguments, environment: environment)
    }

    @Test func aCompleteRunThenARerunThatSendsNothingWithIdenticalResults() async throws {
        let emulator = try EmulatorProcess()
        let scratch = try Scratch()
        defer { scratch.remove() }
        let file = try scratch.write("orders.csv", orderFile(20))
        let first = try run([
            "run", file, "--id-column", "order_id", "--api-url", emulator.url, "--rate", "0", "--json",
        ])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(try first.count("created") == 20)
        let results = try scratch.read("orders.csv.results.csv")
        #expect(results.components(separatedBy: ",created,").count == 21)
        #expect(try await emulator.counter("licenseCreateRequests") == 20)

        let second = try run([
            "run", file, "--id-column", "order_id", "--api-url", emulator.url, "--rate", "0", "--json",
        ])
        #expect(second.status == 0)
        #expect(try second.count("alreadyDone") == 20 && second.count("requests") == 0)
        #expect(try await emulator.counter("licenseCreateRequests") == 20)
        #expect(try scratch.read("orders.csv.results.csv") == results)

        let status = try run(["status", file, "--json"])
        #expect(status.status == 0)
        #expect(try status.count("states", "created") == 20)
        #expect(try status.count("rerun", "lookUp") == 0 && status.count("rerun", "send") == 0)
        #expect(try run(["status", file]).stdout.contains("a rerun of the same file would look up 0, send 0"))
        let export = try run(["export", file])
        #expect(export.status == 0)
        #expect(export.stdout == results)
    }

    /// Resume scenarios 3–7 of the run issue, with the built binary (1 and 2 have tests of their own).
    @Test func resumeScenariosWithTheBuiltBinary() async throws {
        let emulator = try EmulatorProcess(["--product", "prod-1"])
        let scratch = try Scratch()
        defer { scratch.remove() }
        let api = ["--api-url", emulator.url, "--rate", "0", "--progress", "none"]
        func creates() async throws -> Int { try await emulator.counter("licenseCreateRequests") }

        // 3. A rejected row fixed in the file is sent with its new values; created rows are untouched.
        let fixFile = try scratch.write(
            "fix.csv", "order_id,productId,allowedActivations\nX-1,prod-1,2\nX-2,prod-1,-7\n")
        #expect(try run(["run", fixFile, "--id-column", "order_id", "--skip-invalid"] + api).status == 1)
        _ = try scratch.write("fix.csv", "order_id,productId,allowedActivations\nX-1,prod-1,2\nX-2,prod-1,7\n")
        var before = try await creates()
        let fixed = try run(["run", fixFile, "--id-column", "order_id", "--json"] + api)
        #expect(fixed.status == 0)
        #expect(try fixed.count("created") == 1 && fixed.count("recovered") == 0 && fixed.count("alreadyDone") == 1)
        #expect(try await creates() == before + 1)

        // 4. Rows appended to a nightly export: only the new rows are sent.
        let nightly = try scratch.write(
            "nightly.ndjson", (1...3).map { #"{"order_id":"N-\#($0)","productId":"prod-1"}"# + "\n" }.joined())
        #expect(try run(["run", nightly, "--id-column", "order_id"] + api).status == 0)
        _ = try scratch.write(
            "nightly.ndjson", (1...5).map { #"{"order_id":"N-\#($0)","productId":"prod-1"}"# + "\n" }.joined())
        before = try await creates()
        let appended = try run(["run", nightly, "--id-column", "order_id", "--json"] + api)
        #expect(
            try appended.count("created") == 2 && appended.count("recovered") == 0 && appended.count("alreadyDone") == 3
        )
        #expect(try await creates() == before + 2)

        // 5. A created row edited in the file: not created again, a conflict showing both versions, exit 1.
        _ = try scratch.write("fix.csv", "order_id,productId,allowedActivations\nX-1,prod-1,5\nX-2,prod-1,7\n")
        before = try await creates()
        let edited = try run(["run", fixFile, "--id-column", "order_id"] + api)
        #expect(edited.status == 1)
        #expect(try await creates() == before)
        #expect(try scratch.read("fix.csv.results.csv").contains("conflict"))
        #expect(try scratch.read("fix.csv.results.csv").contains("allowedActivations 2 → 5"))

        // 6. Two identical rows without an id column are two orders, exactly once across reruns.
        let twins = try scratch.write("twins.csv", "productId,allowedActivations\nprod-1,1\nprod-1,1\n")
        before = try await creates()
        #expect(try run(["run", twins] + api).status == 0)
        #expect(try run(["run", twins] + api).status == 0)
        #expect(try await creates() == before + 2)

        // 7. With --id-column, a regenerated, re-sorted file creates nothing twice.
        _ = try scratch.write(
            "nightly.ndjson",
            (1...5).reversed().map { #"{"productId":"prod-1","order_id":"N-\#($0)"}"# + "\n" }.joined())
        before = try await creates()
        let resorted = try run(["run", nightly, "--id-column", "order_id", "--json"] + api)
        #expect(resorted.status == 0)
        #expect(try resorted.count("alreadyDone") == 5)
        #expect(try await creates() == before)
    }

    /// Starts a slow run, stops it with `signal` once a few licenses exist, then resumes it.
    /// The emulator stops answering after 6 creates (a hold: the rest wait, and are dropped
    /// unprocessed), so the signal always reaches a run that is still going, however slow the
    /// machine; with SIGINT and SIGTERM the run gives up on the held requests after its request
    /// timeout and stops with 75.
    func stopAndResume(signal: Int32, expectedStatus: Int32) async throws {
        let emulator = try EmulatorProcess(["--no-rate-limit", "--latency-ms", "40"])
        let scratch = try Scratch()
        defer { scratch.remove() }
        let file = try scratch.write("orders.csv", orderFile(60))
        try await LifecycleChaosTests.setFaults(
            emulator, #"{"latencyMilliseconds":40,"hold":{"after":6,"method":"POST","path":"/v3/licenses"}}"#)
        let process = try BuiltBinaries.start(
            "licprov",
            [
                "run", file, "--id-column", "order_id", "--api-url", emulator.url,
                "--rate", "0", "--concurrency", "3", "--request-timeout", "2",
            ], environment: Self.token)
        let deadline = ContinuousClock.now + .seconds(60)
        while try await emulator.faultCount("hold") < 1, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(5))
        }
        #expect(process.isRunning, "the run ended before the signal")
        kill(process.processIdentifier, signal)
        process.waitUntilExit()
        #expect(
            process.terminationStatus == expectedStatus
                || (signal == SIGKILL && process.terminationReason == .uncaughtSignal))
        // At most the 6 the hold let through (some may still have been on their way when it held the 7th).
        let createdBeforeResume = try await emulator.counter("licensesCreated")
        #expect(createdBeforeResume <= 6)
        try await LifecycleChaosTests.setFaults(emulator, #"{"latencyMilliseconds":40}"#)

        let resumed = try run(["run", file, "--id-column", "order_id", "--api-url", emulator.url, "--rate", "0"])
        #expect(resumed.status == 0, "\(resumed.stdout)\(resumed.stderr)")
        let markers = try await emulator.markers()
        #expect(markers.count == 60)
        #expect(Set(markers).count == 60)
        let results = try scratch.read("orders.csv.results.csv")
        let keys = Set(
            results.split(separator: "\r\n").dropFirst().map {
                $0.split(separator: ",", omittingEmptySubsequences: false)[5]
            }.map(String.init))
        #expect(keys == (try await emulator.keys()))
    }

    @Test func sigintStopsCleanlyWithTheResumableCodeAndARerunFinishes() async throws {
        try await stopAndResume(signal: SIGINT, expectedStatus: 75)
    }

    @Test func sigtermDoesTheSame() async throws {
        try await stopAndResume(signal: SIGTERM, expectedStatus: 75)
    }

    @Test func sigkillMidRunLosesNothingAndDuplicatesNothing() async throws {
        try await stopAndResume(signal: SIGKILL, expectedStatus: 137)
    }

    @Test func everyExitCode() async throws {
        let emulator = try EmulatorProcess(["--product", "prod-1"])
        let scratch = try Scratch()
        defer { scratch.remove() }
        let good = try scratch.write("good.csv", orderFile(2))
        let api = ["--api-url", emulator.url, "--id-column", "order_id"]

        #expect(try run(["run", good] + api).status == 0)
        // 1: a row the server refuses (an unknown product).
        let unknownProduct = try scratch.write("unknown.csv", "order_id,productId\nU-1,prod-1\nU-2,prod-nope\n")
        let partly = try run(["run", unknownProduct] + api)
        #expect(partly.status == 1)
        #expect(
            partly.stdout.contains("1 × POST /v3/licenses: HTTP 400: Product with id … does not exist."),
            "\(partly.stdout)")
        #expect(try scratch.read("unknown.csv.results.csv").contains(",rejected,,,400,"))
        // 64: no token; a bad flag.
        let noToken = try run(["run", good] + api, environment: ["CRYPTLEX_ACCESS_TOKEN": ""])
        #expect(noToken.status == 64)
        #expect(noToken.stderr.contains("CRYPTLEX_ACCESS_TOKEN"))
        #expect(try run(["run", good, "--concurrency", "0"] + api).status == 64)
        #expect(try run(["run", good, "--api-url", "http://example.com:8080", "--id-column", "order_id"]).status == 64)
        // 65: invalid rows, nothing sent.
        let invalid = try scratch.write("invalid.csv", "order_id,productId,allowedActivations\nI-1,prod-1,many\n")
        let refused = try run(["run", invalid] + api)
        #expect(refused.status == 65)
        #expect(refused.stderr.contains("invalid.csv:2: allowedActivations"))
        // 65 too: the first license, sent alone, names a product that does not exist; nothing else is sent.
        let typo = try scratch.write("typo.csv", "order_id,productId\nT-1,prod-typo\nT-2,prod-typo\nT-3,prod-typo\n")
        let requestsBefore = try await emulator.counter("licenseCreateRequests")
        let stopped = try run(["run", typo] + api)
        #expect(stopped.status == 65)
        #expect(stopped.stderr.contains("the first license, sent alone, was rejected"))
        #expect(try await emulator.counter("licenseCreateRequests") == requestsBefore + 1)
        // 66: no such file.
        #expect(try run(["run", scratch.path + "/missing.csv"] + api).status == 66)
        #expect(!FileManager.default.fileExists(atPath: scratch.path + "/missing.csv.licprov.sqlite"))
        // 69: nothing listens there.
        let unreachable = try run([
            "run", good, "--api-url", "http://127.0.0.1:9", "--id-column", "order_id", "--journal",
            scratch.path + "/j69.sqlite",
        ])
        #expect(unreachable.status == 69, "\(unreachable.stderr)")
        // 74: the journal is not a journal.
        let notAJournal = try scratch.write("not-a-journal.sqlite", "hello")
        #expect(try run(["run", good, "--journal", notAJournal] + api).status == 74)
        // 77: the token is refused.
        let refusedToken = try run(
            ["run", good, "--journal", scratch.path + "/j77.sqlite"] + api,
            environment: ["CRYPTLEX_ACCESS_TOKEN": "wrong"])
        #expect(refusedToken.status == 77)
        #expect(try await emulator.counter("unauthorized") == 1)  // the preflight, and nothing after it
    }

    @Test func aSecondRunOnTheSameJournalIsRefusedNamingTheFirst() async throws {
        let emulator = try EmulatorProcess(["--no-rate-limit", "--latency-ms", "50"])
        let scratch = try Scratch()
        defer { scratch.remove() }
        let file = try scratch.write("orders.csv", orderFile(40))
        let process = try BuiltBinaries.start(
            "licprov",
            [
                "run", file, "--id-column", "order_id", "--api-url", emulator.url,
                "--rate", "0", "--concurrency", "1",
            ], environment: Self.token)
        defer {
            process.interrupt()
            process.waitUntilExit()
        }
        let deadline = ContinuousClock.now + .seconds(30)
        while try await emulator.counter("licensesCreated") < 1, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(5))
        }
        let second = try run(["run", file, "--id-column", "order_id", "--api-url", emulator.url, "--rate", "0"])
        #expect(second.status == 74)
        #expect(second.stderr.contains("PID \(process.processIdentifier)"))
    }

    @Test func aTokenFileOthersCanReadIsWarnedAbout() async throws {
        let emulator = try EmulatorProcess()
        let scratch = try Scratch()
        defer { scratch.remove() }
        let file = try scratch.write("orders.csv", orderFile(1))
        let tokenFile = try scratch.write("token", "e2e-token\n")
        chmod(tokenFile, 0o644)
        let loose = try run(
            ["run", file, "--id-column", "order_id", "--api-url", emulator.url, "--token-file", tokenFile],
            environment: ["CRYPTLEX_ACCESS_TOKEN": ""])
        #expect(loose.status == 0)
        #expect(loose.stderr.contains("can be read by other users"))
        chmod(tokenFile, 0o600)
        let tight = try run(
            ["run", file, "--id-column", "order_id", "--api-url", emulator.url, "--token-file", tokenFile],
            environment: ["CRYPTLEX_ACCESS_TOKEN": ""])
        #expect(tight.status == 0)
        #expect(!tight.stderr.contains("can be read by other users"))
    }

    @Test func theTokenAppearsNowhere() async throws {
        let secret = "e2e-token"
        let emulator = try EmulatorProcess(["--fault", "lost-response=0.3", "--seed", "7"])
        let scratch = try Scratch()
        defer { scratch.remove() }
        let file = try scratch.write("orders.csv", orderFile(10) + "E-bad,prod-1,-5\n")
        let outcome = try run([
            "run", file, "--id-column", "order_id", "--api-url", emulator.url, "--rate", "0", "--skip-invalid",
            "--log-level", "trace", "--reconcile-delay", "0",
        ])
        #expect(outcome.status == 1)
        #expect(!outcome.stdout.contains(secret))
        #expect(!outcome.stderr.contains(secret))
        #expect(outcome.stderr.contains("request"))  // the debug log did print requests
        for name in ["orders.csv.results.csv", "orders.csv.licprov.sqlite", "orders.csv.licprov.sqlite-wal"]
        where FileManager.default.fileExists(atPath: scratch.path + "/" + name) {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: scratch.path + "/" + name))
            #expect(bytes.range(of: Data(secret.utf8)) == nil, "\(name) holds the token")
        }
        let mode =
            try FileManager.default.attributesOfItem(atPath: scratch.path + "/orders.csv.results.csv")[
                .posixPermissions] as? Int
        #expect(mode == 0o600)
    }
}

/// kill -9 at random moments of a fast run — mostly inside journal writes — many times over.
@Suite("kill -9 in a loop", .serialized)
struct KillLoopTests {
    @Test func everyKillLeavesAJournalThatOpensAndResumes() async throws {
        let emulator = try EmulatorProcess(["--no-rate-limit"])
        let scratch = try Scratch()
        defer { scratch.remove() }
        let rows = 1500
        let file = try scratch.write("orders.csv", orderFile(rows))
        let arguments = [
            "run", file, "--id-column", "order_id", "--api-url", emulator.url, "--rate", "0", "--concurrency", "16",
            "--reconcile-delay", "0.05",
        ]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<15 {
            let process = try BuiltBinaries.start("licprov", arguments, environment: RunCommandTests.token)
            // A random moment: the kill is the experiment, nothing is asserted about time.
            try await Task.sleep(for: .milliseconds(Int.random(in: 30...250, using: &generator)))
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            let status = try BuiltBinaries.run("licprov", ["status", file])
            #expect(status.status == 0, "\(status.stderr)")
        }
        let finished = try BuiltBinaries.run("licprov", arguments, environment: RunCommandTests.token)
        #expect(finished.status == 0, "\(finished.stdout)\(finished.stderr)")
        let markers = try await emulator.markers()
        #expect(markers.count == rows)
        #expect(Set(markers).count == rows)
    }
}

/// The chaos script in small: faults of every kind, kill -9 three times mid-run, then reruns until
/// done; every row ends with exactly one license carrying its marker, and the results hold the
/// emulator's keys.
@Suite("Exactly once under faults and kill -9, end to end", .serialized)
struct ChaosTests {
    @Test func faultsAndKillsLeaveExactlyOneLicensePerRow() async throws {
        let emulator = try EmulatorProcess([
            "--no-rate-limit", "--seed", "11", "--fault", "500=0.05", "--fault", "reset=0.05",
            "--fault", "lost-response=0.05", "--fault", "503=0.02", "--retry-after", "1",
            "--latency-ms", "5", "--jitter-ms", "20",
        ])
        let scratch = try Scratch()
        defer { scratch.remove() }
        let rows = 200
        let file = try scratch.write("orders.csv", orderFile(rows))
        let arguments = [
            "run", file, "--id-column", "order_id", "--api-url", emulator.url, "--rate", "0", "--concurrency", "8",
            "--reconcile-delay", "0.1", "--retry-base", "0.02", "--retry-cap", "0.2",
        ]
        for threshold in [20, 70, 130] {
            let process = try BuiltBinaries.start("licprov", arguments, environment: RunCommandTests.token)
            let deadline = ContinuousClock.now + .seconds(60)
            while process.isRunning, try await emulator.counter("licensesCreated") < threshold,
                ContinuousClock.now < deadline
            {
                try await Task.sleep(for: .milliseconds(2))
            }
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            // The journal a kill left behind opens and reports.
            #expect(try BuiltBinaries.run("licprov", ["status", file]).status == 0)
        }
        var last = BuiltBinaries.Outcome(status: -1, stdout: "", stderr: "")
        for _ in 0..<10 where last.status != 0 {
            last = try BuiltBinaries.run("licprov", arguments, environment: RunCommandTests.token)
        }
        #expect(last.status == 0, "\(last.stdout)\(last.stderr)")
        let markers = try await emulator.markers()
        #expect(markers.count == rows)
        #expect(Set(markers).count == rows)
        let results = try scratch.read("orders.csv.results.csv")
        let lines = results.split(separator: "\r\n").dropFirst().map {
            $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        }
        #expect(lines.count == rows)
        #expect(lines.allSatisfy { $0[3] == "created" || $0[3] == "recovered" })
        #expect(Set(lines.map { $0[5] }) == (try await emulator.keys()))
    }
}

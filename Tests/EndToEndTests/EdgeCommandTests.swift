import Foundation
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Promises kept at the edges, with the built binaries: hostile flags, file modes under any
/// umask, closed or full output streams, the 429 budget, Cryptlex's own importer layout, dry runs
/// beside a live run, and Ctrl-C while a large file is planned.
@Suite("Edges, end to end", .serialized)
struct EdgeCommandTests {
    let licprov = BuiltBinaries.directory.appendingPathComponent("licprov").path

    func run(_ arguments: [String], environment: [String: String] = RunCommandTests.token) throws
        -> BuiltBinaries.Outcome
    {
        try BuiltBinaries.run("licprov", arguments, environment: environment)
    }

    // MARK: 8. numeric flags

    static let hostileRunFlags: [(String, String)] = [
        ("--rate", "1e-12"), ("--rate", "nan"), ("--rate", "inf"), ("--rate", "-1"), ("--request-timeout", "1e10"),
        ("--request-timeout", "0"), ("--concurrency", "0"), ("--concurrency", "100000"), ("--max-attempts", "-1"),
        ("--max-attempts", "0"), ("--retry-cap", "inf"), ("--retry-base", "nan"), ("--retry-base", "0"),
        ("--burst", "9223372036854775807"),
        ("--burst", "0"), ("--reconcile-delay", "-1"), ("--reconcile-delay", "1e300"), ("--max-failures", "-5"),
        ("--max-problems", "-1"),
        ("--max-429s", "0"), ("--stall-timeout", "nan"), ("--stall-timeout", "1e12"),
    ]

    /// Every numeric flag with a table of hostile values: exit 64 naming the allowed range, never a trap.
    @Test func hostileNumericFlagsAreUsageErrorsNamingTheRange() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let file = try scratch.write("orders.csv", orderFile(1))
        for (flag, value) in Self.hostileRunFlags {
            // FLAG=VALUE, so that a negative value reaches the check instead of reading as a flag.
            let outcome = try run([
                "run", file, "--id-column", "order_id", "--api-url", "http://127.0.0.1:9", "\(flag)=\(value)",
            ])
            #expect(outcome.status == 64, "\(flag) \(value): \(outcome.status) \(outcome.stderr)")
            #expect(
                outcome.stderr.contains(flag) && outcome.stderr.contains("from"), "\(flag) \(value): \(outcome.stderr)")
        }
        let validate = try run(["validate", file, "--max-problems=-3"])
        #expect(validate.status == 64)
        for (flag, value) in [
            ("--rate-window", "0"), ("--rate-window", "-5"), ("--jitter-ms", "-1"), ("--latency-ms", "99999999999"),
            ("--rate-limit", "0"), ("--port", "70000"), ("--retry-after", "-1"), ("--lookup-lag-ms", "-2"),
        ] {
            let outcome = try BuiltBinaries.run("cryptlex-emulator", ["--token", "t", "\(flag)=\(value)"])
            #expect(outcome.status == 64, "emulator \(flag) \(value): \(outcome.status) \(outcome.stderr)")
            #expect(outcome.stderr.contains("must be from"), "emulator \(flag) \(value): \(outcome.stderr)")
        }
    }

    /// The admin route refuses out-of-range settings with 400 instead of overflowing a timer.
    @Test func theEmulatorsAdminRouteRefusesHostileFaultSettings() async throws {
        let emulator = try EmulatorProcess()
        for body in [
            #"{"jitterMilliseconds":-5}"#, #"{"latencyMilliseconds":9223372036854775807}"#,
            #"{"retryAfterSeconds":-1}"#,
            #"{"rules":[{"fault":"500","probability":2}]}"#, #"{"rules":[{"fault":"500","count":-1}]}"#,
        ] {
            var request = URLRequest(url: URL(string: emulator.url + "/__admin/faults")!)
            request.httpMethod = "PUT"
            request.httpBody = Data(body.utf8)
            let (data, response) = try await URLSession.shared.data(for: request)
            #expect(
                (response as? HTTPURLResponse)?.statusCode == 400, "\(body): \(String(decoding: data, as: UTF8.self))")
        }
        // Still serving.
        #expect(try await emulator.counter("requests") == 0)
    }

    // MARK: 2. file modes

    /// Under umask 000, every file licprov creates is 0600 — checked while the run is in flight
    /// (journal, -wal, -shm, lock) and after it (results). Before the fix -wal and -shm were 0666.
    @Test func everyFileIsPrivateWhileTheRunIsInFlightWhateverTheUmask() throws {
        let emulator = try EmulatorProcess(["--no-rate-limit", "--latency-ms", "150"])
        let scratch = try Scratch()
        defer { scratch.remove() }
        let file = try scratch.write("orders.csv", orderFile(30))
        let journal = file + ".licprov.sqlite"
        let process = try Self.shell(
            "umask 000; exec '\(licprov)' run '\(file)' --id-column order_id --api-url \(emulator.url) --rate 0 --concurrency 1 --progress none"
        )
        var seen: [String: Int] = [:]
        let deadline = Date().addingTimeInterval(60)
        while process.isRunning && Date() < deadline && seen.count < 4 {
            for path in [journal, journal + "-wal", journal + "-shm", journal + ".lock"] where seen[path] == nil {
                if let mode = Self.mode(path) { seen[path] = mode }
            }
            usleep(5_000)
        }
        #expect(process.isRunning, "the run should still be in flight while its files are checked")
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(seen.count == 4, "\(seen)")
        for (path, mode) in seen { #expect(mode == 0o600, "\(path): \(String(mode, radix: 8))") }
        #expect(Self.mode(file + ".results.csv") == 0o600)
    }

    // MARK: 7. closed and full output streams

    /// `licprov run … | head -c0`: stdout is closed before the summary. The run finishes, the
    /// journal and results are complete, the exit status is the run's own (before: killed by SIGPIPE).
    @Test func aClosedStdoutDoesNotKillTheRun() async throws {
        let emulator = try EmulatorProcess(["--no-rate-limit"])
        let scratch = try Scratch()
        defer { scratch.remove() }
        let file = try scratch.write("orders.csv", orderFile(10))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: licprov)
        process.arguments = [
            "run", file, "--id-column", "order_id", "--api-url", emulator.url, "--rate", "0", "--progress", "plain",
        ]
        process.environment = ProcessInfo.processInfo.environment.merging(RunCommandTests.token) { $1 }
        let closed = Pipe()
        process.standardOutput = closed
        process.standardError = FileHandle.nullDevice
        try closed.fileHandleForReading.close()
        try process.run()
        try closed.fileHandleForWriting.close()
        process.waitUntilExit()
        #expect(process.terminationReason == .exit)
        #expect(process.terminationStatus == 0)
        let results = try scratch.read("orders.csv.results.csv")
        #expect(results.components(separatedBy: ",created,").count == 11)
        #expect(try await emulator.counter("licenseCreateRequests") == 10)
    }

    /// `2>/dev/full` (a log on a full disk) and `>/dev/full`: every write fails with ENOSPC; the
    /// run goes on to the end (before: Foundation's write trapped on the first log line).
    @Test(arguments: ["stderr", "stdout"])
    func aFullDiskUnderTheLogDoesNotKillTheRun(stream: String) throws {
        let emulator = try EmulatorProcess(["--no-rate-limit"])
        let scratch = try Scratch()
        defer { scratch.remove() }
        let file = try scratch.write("orders.csv", orderFile(10))
        let redirect = stream == "stderr" ? "2>/dev/full" : ">/dev/full"
        let process = try Self.shell(
            "exec '\(licprov)' run '\(file)' --id-column order_id --api-url \(emulator.url) --rate 0 "
                + "--log-level debug --progress plain \(redirect)")
        process.waitUntilExit()
        #expect(process.terminationReason == .exit)
        #expect(process.terminationStatus == 0)
        #expect(try scratch.read("orders.csv.results.csv").components(separatedBy: ",created,").count == 11)
    }

    // MARK: 6. the 429 budget

    /// A proxy that answers nothing but 429: the run stops once the budget is spent, exit 76,
    /// with the cause named, the journal flushed and the results written.
    @Test func nothingBut429sEndsTheRunWithItsOwnExitStatus() throws {
        let emulator = try EmulatorProcess(["--fault", "429=1", "--retry-after", "0"])
        let scratch = try Scratch()
        defer { scratch.remove() }
        let file = try scratch.write("orders.csv", orderFile(4))
        let outcome = try run([
            "run", file, "--id-column", "order_id", "--api-url", emulator.url, "--rate", "0", "--max-429s", "6",
        ])
        #expect(outcome.status == 76, "\(outcome.stderr)")
        #expect(outcome.stderr.contains("6 answers in a row were 429"))
        #expect(outcome.stderr.contains("--max-429s"))
        let results = try scratch.read("orders.csv.results.csv")
        #expect(results.components(separatedBy: ",not sent,").count == 5)
        let status = try run(["status", file, "--json"])
        #expect(try status.count("states", "pending") == 4)
        #expect((try status.json()["lastRun"] as? [String: Any])?["outcome"] as? String == "rate-limited")
    }

    // MARK: 1. Cryptlex's own importer file

    /// Cryptlex's sample importer layout (`cryptlex/csv-importer`, `licenses.csv`): zone-less
    /// `createdAt`. Refused without `--time-zone` (the message names the flag); with
    /// `--time-zone UTC` the keys are kept, users linked and `createdAt` sent as that instant in UTC.
    @Test func cryptlexsImporterFileRunsWithTimeZoneUTC() async throws {
        let emulator = try EmulatorProcess(["--product", "P-1"])
        let scratch = try Scratch()
        defer { scratch.remove() }
        let file = try scratch.write(
            "licenses.csv",
            """
            key,allowedActivations,subscriptionInterval,createdAt,order_id,email,firstName,lastName
            92A4DB-17FD8-F399C-FF065-21523,5,P1Y,2015-05-01T11:16:16,12345,john.doe@example.com,John,Doe
            321C4E-EF872-72270-C9590-2AA9E,4,P1M,2016-06-01T12:36:56,12346,john.smith@example.com,John,Smith
            1334F1-E2FE7-3A50D-80F4C-61EC5,1,P1DT1H,2017-07-01T10:56:26,12347,john.cook@example.com,John,Cook

            """)
        let refused = try run(["validate", file, "--product-id", "P-1", "--id-column", "order_id"])
        #expect(refused.status == 65)
        #expect(refused.stdout.contains("licenses.csv:2: createdAt: has no time zone"))
        #expect(refused.stdout.contains("--time-zone"))
        #expect(
            try run(["validate", file, "--product-id", "P-1", "--id-column", "order_id", "--time-zone", "UTC"]).status
                == 0)

        let outcome = try run([
            "run", file, "--product-id", "P-1", "--id-column", "order_id", "--time-zone", "UTC",
            "--api-url", emulator.url, "--rate", "0",
        ])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let licenses = try await emulator.admin("licenses") as? [[String: Any]] ?? []
        let users = try await emulator.admin("users") as? [[String: Any]] ?? []
        #expect(licenses.count == 3)
        #expect(users.count == 3)
        let byKey = Dictionary(uniqueKeysWithValues: licenses.map { ($0["key"] as? String ?? "", $0) })
        let doe = try #require(byKey["92A4DB-17FD8-F399C-FF065-21523"])
        #expect((doe["createdAt"] as? String)?.hasPrefix("2015-05-01T11:16:16") == true, "\(doe)")
        let userIDs = Set(users.compactMap { $0["id"] as? String })
        #expect(licenses.allSatisfy { userIDs.contains($0["userId"] as? String ?? "") })

        // An IANA zone reads each date with that day's offset; the body carries it.
        let berlin = try run(
            [
                "run", file, "--product-id", "P-1", "--id-column", "order_id", "--time-zone", "Europe/Berlin",
                "--dry-run", "--journal", scratch.path + "/berlin.sqlite",
            ], environment: [:])
        #expect(berlin.stdout.contains(#""createdAt":"2015-05-01T11:16:16+02:00""#), "\(berlin.stdout)")
        let bad = try run(["validate", file, "--time-zone", "Mars/Olympus"])
        #expect(bad.status == 64)
        #expect(bad.stderr.contains("IANA"))
    }

    // MARK: 5. dry runs

    /// A dry run changes no byte and no modification time of the journal, and leaves no file beside it.
    @Test func aDryRunLeavesTheJournalExactlyAsItWas() throws {
        let emulator = try EmulatorProcess(["--no-rate-limit"])
        let scratch = try Scratch()
        defer { scratch.remove() }
        let file = try scratch.write("orders.csv", orderFile(5))
        #expect(
            try run(["run", file, "--id-column", "order_id", "--api-url", emulator.url, "--rate", "0"]).status == 0)
        _ = try scratch.write("orders.csv", orderFile(8))
        let journal = file + ".licprov.sqlite"
        let before = try Self.fingerprint(journal)
        let listing = try FileManager.default.contentsOfDirectory(atPath: scratch.path).sorted()
        // (The fingerprint compares the bytes, and the modification time to the nanosecond.)
        let dry = try run(["run", file, "--id-column", "order_id", "--dry-run", "--json"], environment: [:])
        #expect(dry.status == 0, "\(dry.stderr)")
        #expect(try dry.count("wouldSend") == 3 && dry.count("alreadyDone") == 5)
        #expect(try Self.fingerprint(journal) == before)
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path).sorted() == listing)
    }

    /// A dry run beside a live run on the same journal: it plans from a snapshot and the live run
    /// is not disturbed (before: the dry run's registration held SQLite's write lock, and the live
    /// run's commits failed with "database is locked", exit 74).
    @Test func aDryRunBesideALiveRunPlansFromASnapshotAndTheLiveRunFinishes() async throws {
        let emulator = try EmulatorProcess(["--no-rate-limit", "--latency-ms", "20"])
        let scratch = try Scratch()
        defer { scratch.remove() }
        let live = try scratch.write("live.csv", orderFile(150))
        let big = try scratch.write("big.csv", orderFile(20_000, from: 1_000))
        let journal = scratch.path + "/shared.sqlite"
        let process = try Self.shell(
            "exec '\(licprov)' run '\(live)' --id-column order_id --api-url \(emulator.url) --rate 0 "
                + "--concurrency 2 --progress none --journal '\(journal)'")
        let deadline = Date().addingTimeInterval(60)
        while !FileManager.default.fileExists(atPath: journal + "-wal") && process.isRunning && Date() < deadline {
            usleep(5_000)
        }
        var dryRuns = 0
        while process.isRunning && dryRuns < 3 {
            let dry = try run(
                ["run", big, "--id-column", "order_id", "--dry-run", "--journal", journal, "--json"], environment: [:])
            #expect(dry.status == 0, "\(dry.stderr)")
            #expect(try dry.count("wouldSend") == 20_000)
            dryRuns += 1
        }
        process.waitUntilExit()
        #expect(dryRuns > 0, "the live run ended before a dry run could start")
        #expect(process.terminationStatus == 0)
        #expect(try await emulator.counter("licenseCreateRequests") == 150)
    }

    // MARK: 9. Ctrl-C while planning

    /// A 1,000,000-row file, and licprov run on it (not waited for).
    func runAMillionRows(_ emulator: EmulatorProcess, in scratch: Scratch) throws -> (
        process: Process, file: String, stderr: Pipe
    ) {
        let file = scratch.path + "/million.csv"
        var text = "order_id,productId,allowedActivations\n"
        text.reserveCapacity(30_000_000)
        for index in 1...1_000_000 { text += "M-\(index),prod-1,2\n" }
        try text.write(toFile: file, atomically: false, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: licprov)
        process.arguments = [
            "run", file, "--id-column", "order_id", "--api-url", emulator.url, "--rate", "0", "--log-level", "info",
            "--progress", "none",
        ]
        process.environment = ProcessInfo.processInfo.environment.merging(RunCommandTests.token) { $1 }
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        return (process, file, err)
    }

    /// SIGINT while a fresh 1,000,000-row file is being checked (before any of it is registered):
    /// the run stops (exit 75), the journal opens and holds no license, nothing was sent.
    @Test func ctrlCWhilePlanningAMillionRowsStopsAtOnce() async throws {
        let emulator = try EmulatorProcess(["--no-rate-limit"])
        let scratch = try Scratch()
        defer { scratch.remove() }
        let (process, file, err) = try runAMillionRows(emulator, in: scratch)
        // The event: the run says it began reading the file. Then the signal.
        var seen = ""
        while !seen.contains("planning") {
            let chunk = readSome(err.fileHandleForReading)
            if chunk.isEmpty { break }
            seen += String(decoding: chunk, as: UTF8.self)
        }
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        seen += String(decoding: readToEnd(err.fileHandleForReading), as: UTF8.self)
        #expect(process.terminationStatus == 75, "\(seen)")
        // Its bound: the stop is noticed within 256 rows of the flag, so the file is left unread —
        // far from its million rows (a run that read it all before stopping would say 1000000).
        let match = try #require(
            seen.firstMatch(of: /interrupted while (?:checking the file|planning), after (\d+) rows/), "\(seen)")
        let rows = try #require(Int(match.1))
        #expect(rows < 1_000_000, "the run read \(rows) rows before it stopped")
        #expect(try await emulator.counter("requests") == 0)
        let status = try run(["status", file, "--json"])
        #expect(status.status == 0, "\(status.stderr)")
        #expect(try status.count("licenses") == 0)
    }

    /// SIGINT once the first licenses of a fresh 1,000,000-row file went out, while the rest is
    /// still being registered in parts: exit 75; every license the emulator made is in the journal
    /// as created (none lost, none left in flight), and the rows not registered yet wait for the next
    /// run (fewer than a million licenses in the journal).
    @Test func ctrlCWhileAMillionRowsAreRegisteredInPartsLosesNothing() async throws {
        let emulator = try EmulatorProcess(["--no-rate-limit"])
        let scratch = try Scratch()
        defer { scratch.remove() }
        let (process, file, _) = try runAMillionRows(emulator, in: scratch)
        let deadline = Date().addingTimeInterval(600)
        while try await emulator.counter("licensesCreated") < 100, process.isRunning, Date() < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(process.isRunning, "registering a million rows in parts should outlast the first hundred creates")
        kill(process.processIdentifier, SIGINT)
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            Thread {
                process.waitUntilExit()
                done.resume()
            }.start()
        }
        #expect(process.terminationStatus == 75)
        let created = try await emulator.counter("licensesCreated")
        let status = try run(["status", file])
        #expect(status.status == 0, "\(status.stderr)")
        #expect(status.stdout.contains("  created: \(created)\n"), "\(status.stdout)")
        #expect(!status.stdout.contains("inFlight"), "\(status.stdout)")
        let registered = status.stdout.split(separator: "\n").first { $0.hasPrefix("licenses: ") }.flatMap {
            Int($0.dropFirst(10))
        }
        #expect((registered ?? 0) >= created && (registered ?? .max) < 1_000_000, "\(status.stdout)")
    }

    // MARK: helpers

    static func shell(_ command: String) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        process.environment = ProcessInfo.processInfo.environment.merging(RunCommandTests.token) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    static func mode(_ path: String) -> Int? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Int(info.st_mode & 0o777)
    }

    static func fingerprint(_ path: String) throws -> [String] {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        var hash = Hasher()
        hash.combine(data)
        return [
            "\(data.count)", "\(hash.finalize())", "\(attributes[.modificationDate] as? Date ?? .distantPast)",
            "\((attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0)",
        ]
    }
}

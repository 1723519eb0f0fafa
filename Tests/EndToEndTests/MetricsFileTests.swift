import Foundation
import Testing

/// `--metrics-file`: the Prometheus text format, parsed back.
@Suite("Metrics for monitoring", .serialized)
struct MetricsFileTests {
    /// Every sample of a Prometheus text file: name, labels, value; each sample's family declared
    /// with HELP and TYPE before it.
    static func parse(_ text: String) throws -> [String: [(labels: [String: String], value: Double)]] {
        var samples: [String: [(labels: [String: String], value: Double)]] = [:]
        var declared = Set<String>()
        for line in text.split(separator: "\n").map(String.init) {
            if line.hasPrefix("# TYPE ") {
                declared.insert(String(line.split(separator: " ")[2]))
                continue
            }
            if line.hasPrefix("#") { continue }
            let match = try #require(line.wholeMatch(of: /([a-z_:]+)\{(.*)\} (\S+)/), "not a sample: \(line)")
            let name = String(match.1)
            #expect(declared.contains(name), "\(name) has no TYPE line")
            var labels: [String: String] = [:]
            for pair in String(match.2).matches(of: /([a-z_]+)="((?:[^"\\]|\\.)*)"/) {
                labels[String(pair.1)] = String(pair.2)
            }
            samples[name, default: []].append((labels, try #require(Double(String(match.3)))))
        }
        return samples
    }

    /// Reads `path` as the user `nobody` (with `runuser`, when the tests run as root as CI does;
    /// otherwise the mode checked above is the evidence): the collector's situation.
    static func readAsAnotherUser(_ path: String) throws {
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/sbin/runuser") else { return }
        // The folders on the way must let `nobody` through, as a collector's directory does.
        var folder = URL(fileURLWithPath: path).deletingLastPathComponent()
        var opened: [(String, Int)] = []
        while folder.path != "/" {
            let mode = try FileManager.default.attributesOfItem(atPath: folder.path)[.posixPermissions] as? Int ?? 0
            if mode & 0o001 == 0 {
                opened.append((folder.path, mode))
                chmod(folder.path, mode_t(mode | 0o001))
            }
            folder.deleteLastPathComponent()
        }
        defer { for (path, mode) in opened { chmod(path, mode_t(mode)) } }
        let outcome = try BuiltBinaries.runTool("/usr/sbin/runuser", ["-u", "nobody", "--", "cat", path])
        #expect(outcome.status == 0, "nobody could not read \(path): \(outcome.stderr)")
        #expect(try parse(outcome.stdout)["licprov_run_requests"] != nil)
    }

    @Test func aRunWritesItsFiguresAndAFailedRunKeepsTheLastSuccess() async throws {
        let emulator = try EmulatorProcess(["--no-rate-limit"])
        let scratch = try Scratch()
        defer { scratch.remove() }
        let file = try scratch.write("orders.csv", orderFile(12))
        let metrics = scratch.path + "/licprov.prom"
        let arguments = [
            "run", file, "--id-column", "order_id", "--api-url", emulator.url, "--rate", "0", "--metrics-file", metrics,
        ]
        #expect(
            try await BuiltBinaries.runOffPool("licprov", arguments, environment: RunCommandTests.token).status == 0)
        let first = try Self.parse(scratch.read("licprov.prom"))
        let created = first["licprov_run_licenses"]?.first { $0.labels["status"] == "created" }
        #expect(created?.value == 12)
        #expect(created?.labels["file"] == file)
        #expect(first["licprov_run_requests"]?.first?.value == 12)
        #expect(first["licprov_run_exit_code"]?.first?.value == 0)
        let success = try #require(first["licprov_last_success_timestamp_seconds"]?.first?.value)
        #expect(abs(success - Date().timeIntervalSince1970) < 600)
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: scratch.path).filter { $0.contains(".tmp") }.isEmpty)
        // node_exporter's textfile collector runs as its own user: the file is readable by others,
        // while the journal and results beside it stay private.
        #expect((try FileManager.default.attributesOfItem(atPath: metrics)[.posixPermissions] as? Int) == 0o644)
        #expect(
            (try FileManager.default.attributesOfItem(atPath: file + ".results.csv")[.posixPermissions] as? Int)
                == 0o600)
        #expect(
            (try FileManager.default.attributesOfItem(atPath: file + ".licprov.sqlite")[.posixPermissions] as? Int)
                == 0o600)
        try Self.readAsAnotherUser(metrics)

        // Two more orders, and a token the API refuses: exit 77 in the file, the last success kept.
        _ = try scratch.write("orders.csv", orderFile(14))
        let refused = try await BuiltBinaries.runOffPool(
            "licprov", arguments, environment: ["CRYPTLEX_ACCESS_TOKEN": "wrong"])
        #expect(refused.status == 77)
        let second = try Self.parse(scratch.read("licprov.prom"))
        #expect(second["licprov_run_exit_code"]?.first?.value == 77)
        #expect(second["licprov_last_success_timestamp_seconds"]?.first?.value == success)
        #expect(second["licprov_run_licenses"]?.first { $0.labels["status"] == "not_sent" }?.value == 2)
        // With the right token the rerun finishes: a new success time.
        #expect(
            try await BuiltBinaries.runOffPool("licprov", arguments, environment: RunCommandTests.token).status == 0)
        let third = try Self.parse(scratch.read("licprov.prom"))
        #expect(third["licprov_run_licenses"]?.first { $0.labels["status"] == "already_done" }?.value == 12)
        #expect(try #require(third["licprov_last_success_timestamp_seconds"]?.first?.value) >= success)
    }
}

import Foundation
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// `licprov doctor` over the built binaries, against emulators set up as the accounts it meets.
@Suite("licprov doctor")
struct DoctorTests {
    struct Diagnosis: Decodable {
        struct Check: Decodable {
            var name: String
            var status: String
            var detail: String
        }
        struct RateLimit: Decodable {
            var window: String?
            var resetFormat: String?
            var resetSpreadMilliseconds: Double?
        }
        var checks: [Check]
        var rateLimit: RateLimit?
        var searchLagMilliseconds: Int?
        var recommendedReconcileDelay: Double?

        func check(_ name: String) -> Check? { checks.first { $0.name == name } }
    }

    static func doctor(_ emulator: EmulatorProcess, _ arguments: [String] = [], token: String = "e2e-token")
        async throws -> (Int32, Diagnosis?, BuiltBinaries.Outcome)
    {
        let outcome = try await BuiltBinaries.runOffPool(
            "licprov", ["doctor", "--api-url", emulator.url, "--json"] + arguments,
            environment: ["CRYPTLEX_ACCESS_TOKEN": token])
        return (outcome.status, try? JSONDecoder().decode(Diagnosis.self, from: Data(outcome.stdout.utf8)), outcome)
    }

    /// A clean account: every check ok, exit 0; nothing was created (the write scopes are told by
    /// empty creates the API refuses).
    @Test func aCleanAccountIsAllGood() async throws {
        let emulator = try EmulatorProcess(["--product", "prod-1", "--rate-reset-noise-ms", "20"])
        let (status, diagnosis, outcome) = try await Self.doctor(emulator, ["--product-id", "prod-1"])
        #expect(status == 0, "\(outcome.stdout)\(outcome.stderr)")
        let checks = try #require(diagnosis?.checks)
        #expect(checks.allSatisfy { $0.status == "ok" }, "\(checks.filter { $0.status != "ok" }.map(\.detail))")
        #expect(
            Set(checks.map(\.name)).isSuperset(of: [
                "token", "license:write", "user:write", "product", "rate limit",
                "filter metadata.value[in]", "filter metadata.value[sw]", "filter id[in]", "filter key[in]",
                "filter email[in]",
            ]))
        #expect(diagnosis?.rateLimit?.window == "5s")
        #expect(diagnosis?.rateLimit?.resetFormat?.contains("7 fractional digits") == true)
        #expect(diagnosis?.check("rate limit")?.detail.contains("agrees with ours") == true)
        #expect(try await emulator.counter("licensesCreated") == 0)
        #expect(try await emulator.counter("usersCreated") == 0)
        // A product the account does not have: a warning, exit 1.
        let (missing, other, _) = try await Self.doctor(emulator, ["--product-id", "prod-nope"])
        #expect(missing == 1)
        #expect(other?.check("product")?.status == "failed")
    }

    /// A token that may read but not write: the missing scope is named, exit 77.
    @Test func aReadOnlyTokenNamesTheMissingScope() async throws {
        let emulator = try EmulatorProcess(["--read-only-token", "reader"])
        let (status, diagnosis, _) = try await Self.doctor(emulator, token: "reader")
        #expect(status == 77)
        #expect(diagnosis?.check("license:write")?.status == "failed")
        #expect(diagnosis?.check("license:write")?.detail.contains("license:write") == true)
        #expect(diagnosis?.check("user:write")?.status == "warning")
    }

    /// A token the API refuses: exit 77 at once; an API that is not there: 69.
    @Test func aBadTokenAndNoAPI() async throws {
        let emulator = try EmulatorProcess()
        let (status, diagnosis, outcome) = try await Self.doctor(emulator, token: "wrong")
        #expect(status == 77)
        #expect(diagnosis?.checks.count == 1 && diagnosis?.check("token")?.status == "failed")
        #expect(!outcome.stdout.contains("wrong") && !outcome.stderr.contains("wrong"))
        let gone = try await BuiltBinaries.runOffPool(
            "licprov", ["doctor", "--api-url", "http://127.0.0.1:9"], environment: ["CRYPTLEX_ACCESS_TOKEN": "t"])
        #expect(gone.status == 69)
        #expect(gone.stdout.contains("cannot reach"))
    }

    /// A server that refuses `in` and `sw`: each refused filter a warning that says licprov falls
    /// back, exit 1.
    @Test func refusedOperatorsAreWarnings() async throws {
        let emulator = try EmulatorProcess(["--refuse-operator", "in", "--refuse-operator", "sw"])
        let (status, diagnosis, _) = try await Self.doctor(emulator)
        #expect(status == 1)
        for name in [
            "filter metadata.value[in]", "filter metadata.value[sw]", "filter id[in]", "filter key[in]",
            "filter email[in]",
        ] {
            #expect(diagnosis?.check(name)?.status == "warning", "\(name)")
            #expect(diagnosis?.check(name)?.detail.contains("falls back") == true)
        }
        #expect(diagnosis?.check("token")?.status == "ok")
    }

    /// The write probe on an account whose search lags 3 s: about 3 s reported, the recommended
    /// --reconcile-delay written for --config, and no license left; a probe a crash left behind is
    /// deleted by the next doctor.
    @Test func theWriteProbeMeasuresTheSearchLagAndLeavesNoLicense() async throws {
        let emulator = try EmulatorProcess(["--product", "prod-1", "--lookup-lag-ms", "3000"])
        let scratch = try Scratch()
        defer { scratch.remove() }
        let probe = scratch.path + "/state/probe.json"
        let config = scratch.path + "/doctor.toml"
        let (status, diagnosis, outcome) = try await Self.doctor(
            emulator, ["--product-id", "prod-1", "--write-probe", "--probe-file", probe, "--write-config", config])
        #expect(status == 0, "\(outcome.stdout)")
        let lag = try #require(diagnosis?.searchLagMilliseconds)
        #expect((2_900...4_000).contains(lag), "\(lag) ms")
        #expect(diagnosis?.recommendedReconcileDelay ?? 0 >= Double(lag) / 1000)
        #expect(try await emulator.counter("licensesCreated") == 1)
        #expect(try await emulator.counter("licensesDeleted") == 1)
        #expect((try await emulator.admin("licenses") as? [Any])?.isEmpty == true)
        #expect(!FileManager.default.fileExists(atPath: probe))
        #expect(
            try String(contentsOfFile: config, encoding: .utf8).contains(
                "reconcile-delay = \(diagnosis?.recommendedReconcileDelay ?? 0)"))

        // A crash between the create and the delete: the intent and the license are there (the
        // search's lag switched off, so the next doctor's list shows it at once).
        #expect(
            try await AuditUndoTests.call(
                emulator, "PUT", "/__admin/faults",
                #"{"rules":[],"latencyMilliseconds":0,"jitterMilliseconds":0,"retryAfterSeconds":1,"lookupLagMilliseconds":0}"#
            ) == 200)
        #expect(
            try await AuditUndoTests.call(
                emulator, "POST", "/v3/licenses",
                #"{"productId":"prod-1","metadata":[{"key":"licprov_request","value":"lp-doctor-left-behind"}]}"#)
                == 201)
        try FileManager.default.createDirectory(atPath: scratch.path + "/state", withIntermediateDirectories: true)
        try #"{"apiURL":"\#(emulator.url)","markerKey":"licprov_request","marker":"lp-doctor-left-behind"}"#.write(
            toFile: probe, atomically: true, encoding: .utf8)
        let (_, next, _) = try await Self.doctor(emulator, ["--probe-file", probe])
        #expect(next?.check("earlier probe")?.status == "ok")
        #expect((try await emulator.admin("licenses") as? [Any])?.isEmpty == true)
        #expect(!FileManager.default.fileExists(atPath: probe))
    }
}

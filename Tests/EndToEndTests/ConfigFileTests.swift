import Foundation
import Testing

/// `--config FILE` / `LICPROV_CONFIG`: a nightly job's settings in TOML.
@Suite("Config files")
struct ConfigFileTests {
    @Test func aConfigFileSetsTheFlagsAndTheCommandLineWins() async throws {
        let emulator = try EmulatorProcess(["--no-rate-limit"])
        let scratch = try Scratch()
        defer { scratch.remove() }
        let file = try scratch.write("orders.csv", orderFile(4))
        let config = try scratch.write(
            "nightly.toml",
            """
            # the nightly job
            api-url = "\(emulator.url)"
            id-column = "order_id"
            set = ["notes=from the config"]

            [run]
            rate = 0
            concurrency = 2
            results = "\(scratch.path)/from-config.csv"
            metrics-file = "\(scratch.path)/licprov.prom"

            [validate]
            max-problems = 5
            """)
        let run = try await BuiltBinaries.runOffPool(
            "licprov", ["run", file, "--config", config, "--results", scratch.path + "/from-cli.csv"],
            environment: RunCommandTests.token)
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        #expect(FileManager.default.fileExists(atPath: scratch.path + "/from-cli.csv"))
        #expect(!FileManager.default.fileExists(atPath: scratch.path + "/from-config.csv"))
        #expect(FileManager.default.fileExists(atPath: scratch.path + "/licprov.prom"))
        let licenses = try await emulator.admin("licenses") as? [[String: Any]] ?? []
        #expect(licenses.count == 4)
        #expect(licenses.allSatisfy { $0["notes"] as? String == "from the config" })

        // LICPROV_CONFIG names a default; validate takes the top-level keys and its own section.
        let validate = try await BuiltBinaries.runOffPool(
            "licprov", ["validate", file], environment: ["LICPROV_CONFIG": config])
        #expect(validate.status == 0, "\(validate.stdout)\(validate.stderr)")
    }

    @Test(arguments: [
        (
            "api-url = \"http://127.0.0.1:1\"\n\n[run]\nconcurency = 4\n",
            "nightly.toml:4: concurency is not a flag of licprov run; did you mean concurrency?"
        ),
        (
            "id-colum = \"order_id\"\n",
            "nightly.toml:1: id-colum is not a flag of any licprov command; did you mean id-column?"
        ),
        (
            "token = \"abc\"\n",
            "nightly.toml:1: token: the token is never read from a config file; use token-file or CRYPTLEX_ACCESS_TOKEN"
        ),
        ("rate = 0\nconcurrency = [\n", "nightly.toml:"),
        ("[deploy]\nrate = 1\n", "[deploy] is not a command"),
        ("[job]\ncommand = \"deploy\"\nfile = \"x.csv\"\n", "nightly.toml:2: [job] command must be \"apply\""),
        (
            "[job]\ncommand = \"apply\"\nfile = \"x.csv\"\napi-url = \"http://127.0.0.1:1\"\n",
            "nightly.toml:4: [job] api-url is not a setting"
        ),
    ])
    func aBadConfigFileIsAUsageErrorNamingTheLine(text: String, message: String) async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let config = try scratch.write("nightly.toml", text)
        let file = try scratch.write("orders.csv", orderFile(1))
        let outcome = try await BuiltBinaries.runOffPool(
            "licprov", ["run", file, "--config", config], environment: RunCommandTests.token)
        #expect(outcome.status == 64)
        #expect(outcome.stderr.contains(message), "\(outcome.stderr)")
        #expect(!outcome.stderr.contains("abc"))
        #expect(!FileManager.default.fileExists(atPath: file + ".licprov.sqlite"))
    }
}

import Foundation
import TLSTestSupport
import Testing

/// The built binaries over real TLS on loopback: the emulator serves HTTPS with a certificate
/// from a CA made here; licprov trusts that CA by `--ca-file` or `SSL_CERT_FILE`, tunnels through
/// a CONNECT proxy made here, and stops with exit 69 (nothing sent) when the CA is wrong.
@Suite("HTTPS, proxies and private CAs, end to end")
struct HTTPSEndToEndTests {
    /// A TLS emulator and the files around it.
    struct Bench {
        let emulator: EmulatorProcess
        let scratch: Scratch
        let caFile: String
        let caPEM: String
        let port: String

        init() throws {
            scratch = try Scratch()
            // 127.0.0.1 for direct runs, api.cryptlex.test for runs through the proxy.
            let files = try TestCertificateAuthority.licprov.writeFiles(to: scratch.path)
            caFile = files.ca
            caPEM = try String(contentsOfFile: files.ca, encoding: .utf8)
            emulator = try EmulatorProcess([
                "--tls-cert", files.certificate, "--tls-key", files.key, "--product", "prod-1",
            ])
            port = String(emulator.url.split(separator: ":").last ?? "")
        }

        /// The emulator's licenses, read over HTTPS (trusting the test CA).
        func licenses() async throws -> [[String: Any]] {
            let data = try await HTTPSReader.get(emulator.url + "/__admin/licenses", trusting: caPEM)
            return try JSONSerialization.jsonObject(with: data) as? [[String: Any]] ?? []
        }

        func creates() async throws -> Int {
            let data = try await HTTPSReader.get(emulator.url + "/__admin/counters", trusting: caPEM)
            return (try JSONSerialization.jsonObject(with: data) as? [String: Any])?["licenseCreateRequests"] as? Int
                ?? -1
        }

        /// `licprov run` of `rows` orders against `url`, with a journal of its own.
        func run(_ name: String, rows: Int, url: String, _ extra: [String] = [], environment: [String: String] = [:])
            async throws -> BuiltBinaries.Outcome
        {
            let file = try scratch.write(name + ".csv", orderFile(rows))
            return try await BuiltBinaries.runOffPool(
                "licprov", ["run", file, "--id-column", "order_id", "--api-url", url, "--progress", "none"] + extra,
                environment: RunCommandTests.token.merging(environment) { $1 })
        }
    }

    @Test func runsAndAuditsOverTLSTrustingTheCAFileOrSSL_CERT_FILE() async throws {
        let bench = try Bench()
        defer { bench.scratch.remove() }
        #expect(bench.emulator.url.hasPrefix("https://127.0.0.1:"))
        let run = try await bench.run(
            "orders", rows: 20, url: bench.emulator.url, ["--ca-file", bench.caFile, "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try run.count("created") == 20)
        #expect(try await bench.licenses().count == 20)

        // The same CA from SSL_CERT_FILE, for a command that only reads: the audit finds all 20.
        let audit = try await BuiltBinaries.runOffPool(
            "licprov", ["audit", bench.scratch.path + "/orders.csv", "--api-url", bench.emulator.url, "--json"],
            environment: RunCommandTests.token.merging(["SSL_CERT_FILE": bench.caFile]) { $1 })
        #expect(audit.status == 0, "\(audit.stderr)")
        #expect(
            try audit.count("ok") == 20 && audit.count("duplicate") == 0 && audit.count("missing") == 0
                && audit.count("changed") == 0
                && audit.count("unknown") == 0, "\(audit.stdout)\(audit.stderr)")
    }

    @Test func aWrongCAIsExit69WithNothingSent() async throws {
        let bench = try Bench()
        defer { bench.scratch.remove() }
        let other = bench.scratch.path + "/other"
        try FileManager.default.createDirectory(atPath: other, withIntermediateDirectories: true)
        let otherCA = try TestCertificateAuthority.other.writeFiles(to: other).ca

        // Another CA by flag, the same by SSL_CERT_FILE, and the system's store: never a fallback to trusting anything.
        let cases: [(String, [String], [String: String])] = [
            ("flag", ["--ca-file", otherCA], [:]), ("variable", [], ["SSL_CERT_FILE": otherCA]), ("system", [], [:]),
        ]
        for (name, flags, environment) in cases {
            let run = try await bench.run(
                "wrong-\(name)", rows: 5, url: bench.emulator.url, flags, environment: environment)
            #expect(run.status == 69, "\(name): \(run.stderr)")
            #expect(run.stderr.contains("the server's certificate is not trusted"), "\(name): \(run.stderr)")
            #expect(
                run.stderr.contains("--ca-file") && run.stderr.contains("nothing was sent"), "\(name): \(run.stderr)")
        }
        #expect(try await bench.creates() == 0)
        #expect(try await bench.licenses().isEmpty)
    }

    @Test func tunnelsThroughAConnectProxyFromHTTPS_PROXY() async throws {
        let bench = try Bench()
        defer { bench.scratch.remove() }
        let proxy = try ConnectProxy()
        defer { proxy.stop() }
        // licprov cannot resolve api.cryptlex.test; the proxy resolves every name to 127.0.0.1.
        let url = "https://api.cryptlex.test:\(bench.port)"
        let run = try await bench.run(
            "proxied", rows: 30, url: url, ["--ca-file", bench.caFile, "--concurrency", "4"],
            environment: ["HTTPS_PROXY": proxy.url()])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try await bench.licenses().count == 30)
        // Tunnels are pooled connections, not one per request.
        #expect(!proxy.connects.isEmpty && proxy.connects.count < 30)
        #expect(proxy.connects.allSatisfy { $0.target == "api.cryptlex.test:\(bench.port)" })

        // NO_PROXY names it: licprov goes direct, cannot resolve the name, and says where it went.
        let before = proxy.connects.count
        let direct = try await bench.run(
            "direct", rows: 3, url: url, ["--ca-file", bench.caFile],
            environment: ["HTTPS_PROXY": proxy.url(), "NO_PROXY": "localhost,.cryptlex.test"])
        #expect(direct.status == 69, "\(direct.stderr)")
        #expect(direct.stderr.contains("cannot reach the API"))
        let tunnels = proxy.connects.count
        #expect(tunnels == before)  // nothing went through the proxy
        #expect(try await bench.licenses().count == 30)

        // --proxy (a config-file key too) instead of the variable.
        let flagged = try await bench.run(
            "flagged", rows: 5, url: url, ["--ca-file", bench.caFile, "--proxy", proxy.url()])
        #expect(flagged.status == 0, "\(flagged.stderr)")
        #expect(try await bench.licenses().count == 35)
        #expect(proxy.connects.count > tunnels)
    }

    @Test func proxyCredentialsComeFromTheEnvironmentAndStaySecret() async throws {
        let bench = try Bench()
        defer { bench.scratch.remove() }
        let secret = "pr0xy-S3cret"
        let proxy = try ConnectProxy(credentials: (user: "nightly", password: secret))
        defer { proxy.stop() }
        let url = "https://api.cryptlex.test:\(bench.port)"

        let anonymous = try await bench.run(
            "anonymous", rows: 3, url: url, ["--ca-file", bench.caFile], environment: ["HTTPS_PROXY": proxy.url()])
        #expect(anonymous.status == 69, "\(anonymous.stderr)")
        #expect(anonymous.stderr.contains("asks for credentials (HTTP 407)"))

        let flag = try await bench.run(
            "flag", rows: 3, url: url,
            ["--ca-file", bench.caFile, "--proxy", proxy.url(user: "nightly", password: secret)])
        #expect(flag.status == 64)
        #expect(flag.stderr.contains("HTTPS_PROXY") && !flag.stderr.contains(secret))

        let run = try await bench.run(
            "secret", rows: 10, url: url, ["--ca-file", bench.caFile, "--log-level", "debug"],
            environment: ["HTTPS_PROXY": proxy.url(user: "nightly", password: secret)])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try await bench.licenses().count == 10)
        #expect(proxy.connects.last?.authorization == "Basic " + Data("nightly:\(secret)".utf8).base64EncodedString())
        #expect(run.stderr.contains("connecting through the proxy http://127.0.0.1:\(proxy.port)"))
        // Not in the output, the results or the journal.
        for text in [run.stdout, run.stderr, try bench.scratch.read("secret.csv.results.csv")] {
            #expect(!text.contains(secret))
        }
        let journalFiles = try FileManager.default.contentsOfDirectory(atPath: bench.scratch.path).filter {
            $0.hasPrefix("secret.csv.licprov.sqlite")
        }
        #expect(!journalFiles.isEmpty)
        for name in journalFiles {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: bench.scratch.path + "/" + name))
            #expect(bytes.range(of: Data(secret.utf8)) == nil, "\(name)")
        }
    }

    @Test func badSettingsAreUsageErrors() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let file = try scratch.write("orders.csv", orderFile(2))
        let base = ["run", file, "--id-column", "order_id", "--api-url", "https://api.cryptlex.test:9"]
        let missing = try BuiltBinaries.run(
            "licprov", base + ["--ca-file", scratch.path + "/nope.pem"], environment: RunCommandTests.token)
        #expect(missing.status == 64)
        #expect(missing.stderr.contains("nope.pem") && missing.stderr.contains("cannot be read"))
        let socks = try BuiltBinaries.run(
            "licprov", base,
            environment: RunCommandTests.token.merging(["HTTPS_PROXY": "socks5://127.0.0.1:1080"]) { $1 })
        #expect(socks.status == 64)
        #expect(socks.stderr.contains("HTTPS_PROXY") && socks.stderr.contains("http:// proxies only"))

        let halfTLS = try BuiltBinaries.run("cryptlex-emulator", ["--token", "t", "--tls-cert", file])
        #expect(halfTLS.status == 64)
        #expect(halfTLS.stderr.contains("--tls-cert and --tls-key go together"))
        let badCert = try BuiltBinaries.run(
            "cryptlex-emulator", ["--token", "t", "--port", "0", "--tls-cert", file, "--tls-key", file])
        #expect(badCert.status != 0)
        #expect(badCert.stderr.contains("orders.csv") && badCert.stderr.contains("PEM"))
    }
}

import CryptlexAPI
import CryptlexEmulator
import CryptlexModels
import Foundation
import Scheduling
import TLSTestSupport
import Testing

/// The HTTPS path as it is in the field: real TLS on loopback with a CA made here, a CONNECT
/// proxy started here, and what licprov makes of a certificate or a proxy that says no.
@Suite("HTTPS: TLS with a private CA, CONNECT proxies")
struct HTTPSTransportTests {
    /// A TLS emulator, its CA's files and `body`'s client factory.
    struct Bench {
        let url: String
        let port: Int
        let ca: CertificateAuthorities
        let emulator: CryptlexEmulator
        let folder: String

        func client(_ url: String? = nil, proxy: HTTPProxy? = nil, authorities: CertificateAuthorities?) throws
            -> CryptlexClient
        {
            CryptlexClient(
                baseURL: try CryptlexBaseURL(url ?? self.url), token: "test-token",
                transport: AsyncHTTPClientTransport(
                    connections: 2, connectTimeout: .seconds(10), proxy: proxy, authorities: authorities),
                requestTimeout: .seconds(10))
        }
    }

    func withTLSEmulator<T: Sendable>(_ body: @Sendable (Bench) async throws -> T) async throws -> T {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("licprov-tls-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        // Names only: see writeFiles on why an IP address would hide a host-name mismatch behind the proxy.
        let files = try TestCertificateAuthority.licprov.writeFiles(to: folder, withAddress: false)
        let emulator = try CryptlexEmulator(
            configuration: EmulatorConfiguration(token: "test-token", products: ["prod-1"], rateLimit: nil))
        let ca = try CertificateAuthorities.load(pemFile: files.ca, source: "test")
        return try await emulator.withRunningServer(
            tls: EmulatorTLS(certificatePath: files.certificate, privateKeyPath: files.key)
        ) { url in
            let port = Int(url.split(separator: ":").last!)!
            return try await body(Bench(url: url, port: port, ca: ca, emulator: emulator, folder: folder))
        }
    }

    /// The failure of a call, which must be a transport failure.
    func transportFailure<T>(_ call: () async throws -> T) async -> TransportError? {
        do {
            _ = try await call()
            Issue.record("expected a transport failure; the call succeeded")
            return nil
        } catch let error as APIError {
            guard case .transport(let failure) = error.failure else {
                Issue.record("expected a transport failure, got \(error)")
                return nil
            }
            return failure
        } catch {
            Issue.record("expected an APIError, got \(error)")
            return nil
        }
    }

    @Test func createsOverTLSTrustingTheTestCA() async throws {
        try await withTLSEmulator { bench in
            #expect(bench.url.hasPrefix("https://"))
            let client = try bench.client(authorities: bench.ca)
            let created = try await client.createLicense(LicenseRequest(productId: "prod-1"))
            #expect(created.status == 201)
            #expect(try await client.findLicenses(LicenseQuery()).value.map(\.id) == [created.value.id])
            try await client.shutdown()
        }
    }

    @Test func anUntrustedCertificateIsRefusedNotDowngraded() async throws {
        try await withTLSEmulator { bench in
            // Another CA, and the system's store: neither signed the emulator's certificate.
            let otherFolder = bench.folder + "/other"
            try FileManager.default.createDirectory(atPath: otherFolder, withIntermediateDirectories: true)
            let other = try TestCertificateAuthority.other.writeFiles(to: otherFolder)
            for authorities in [try CertificateAuthorities.load(pemFile: other.ca, source: "test"), nil] {
                let client = try bench.client(authorities: authorities)
                let error = await apiError { try await client.createLicense(LicenseRequest(productId: "prod-1")) }
                try await client.shutdown()
                guard case .transport(.refused(let reason)) = error?.failure else {
                    Issue.record("expected .refused, got \(String(describing: error))")
                    continue
                }
                #expect(reason.contains("not trusted"))
                #expect(error?.outcome == .retryable(after: nil))  // a POST, but certainly never sent
            }
            // Nothing reached the server.
            #expect(await bench.emulator.store.allLicenses().count == 0)
        }
    }

    @Test func aNameTheCertificateDoesNotCarryIsRefused() async throws {
        try await withTLSEmulator { bench in
            // The same server reached as other.cryptlex.test (the proxy resolves it): the
            // certificate names localhost and api.cryptlex.test only.
            let proxy = try ConnectProxy()
            defer { proxy.stop() }
            let client = try bench.client(
                "https://other.cryptlex.test:\(bench.port)", proxy: HTTPProxy(host: "127.0.0.1", port: proxy.port),
                authorities: bench.ca)
            let failure = await transportFailure { try await client.findLicenses(LicenseQuery()) }
            try await client.shutdown()
            guard case .refused(let reason) = failure else {
                Issue.record("expected .refused, got \(String(describing: failure))")
                return
            }
            #expect(reason.contains("TLS handshake failed") && reason.contains("through the proxy"))
            // async-http-client tries the connection again until its connect timeout: several tunnels, one target.
            #expect(Set(proxy.connects.map(\.target)) == ["other.cryptlex.test:\(bench.port)"])
        }
    }

    /// async-http-client tries a failed handshake again until its connect timeout and then reports
    /// the last failure; one still under way at the timeout is reported as the timeout instead. A
    /// loaded machine took over 2 s for the first: 10 s leaves the handshake time to fail first.
    @Test func httpsToAPlainHTTPServerSaysSo() async throws {
        let emulator = try CryptlexEmulator(configuration: EmulatorConfiguration(token: "test-token", rateLimit: nil))
        try await emulator.withRunningServer { url in
            let client = CryptlexClient(
                baseURL: try CryptlexBaseURL(url.replacingOccurrences(of: "http://", with: "https://")),
                token: "test-token",
                transport: AsyncHTTPClientTransport(connections: 1, connectTimeout: .seconds(10)))
            let failure = await transportFailure { try await client.findLicenses(LicenseQuery()) }
            try await client.shutdown()
            guard case .refused(let reason) = failure else {
                Issue.record("expected .refused, got \(String(describing: failure))")
                return
            }
            #expect(reason.contains("did not answer in TLS"))
        }
    }

    @Test func tunnelsThroughAConnectProxy() async throws {
        try await withTLSEmulator { bench in
            let proxy = try ConnectProxy()
            defer { proxy.stop() }
            // Only the proxy resolves api.cryptlex.test (to 127.0.0.1): an answer proves the tunnel.
            let client = try bench.client(
                "https://api.cryptlex.test:\(bench.port)", proxy: HTTPProxy(host: "127.0.0.1", port: proxy.port),
                authorities: bench.ca)
            for _ in 0..<3 { _ = try await client.createLicense(LicenseRequest(productId: "prod-1")) }
            #expect(await bench.emulator.store.allLicenses().count == 3)
            #expect(!proxy.connects.isEmpty)
            #expect(
                proxy.connects.allSatisfy { $0.target == "api.cryptlex.test:\(bench.port)" && $0.authorization == nil })
            try await client.shutdown()
        }
    }

    /// HTTP_PROXY for an http:// API (an emulator on another host, with --allow-insecure-http):
    /// the same tunnel, without TLS inside.
    @Test func plainHTTPTunnelsToo() async throws {
        let emulator = try CryptlexEmulator(
            configuration: EmulatorConfiguration(token: "test-token", products: ["prod-1"], rateLimit: nil))
        try await emulator.withRunningServer { url in
            let proxy = try ConnectProxy()
            defer { proxy.stop() }
            let port = url.split(separator: ":").last!
            let environment = ["HTTP_PROXY": proxy.url(), "HTTPS_PROXY": "http://unused.invalid:1"]
            let baseURL = try CryptlexBaseURL("http://emulator.cryptlex.test:\(port)")
            let route = try HTTPProxy.from(environment: environment, for: baseURL)
            #expect(route == HTTPProxy(host: "127.0.0.1", port: proxy.port))
            let client = CryptlexClient(
                baseURL: baseURL, token: "test-token",
                transport: AsyncHTTPClientTransport(connections: 1, connectTimeout: .seconds(10), proxy: route))
            _ = try await client.createLicense(LicenseRequest(productId: "prod-1"))
            try await client.shutdown()
            #expect(await emulator.store.allLicenses().count == 1)
            #expect(proxy.connects.map(\.target) == ["emulator.cryptlex.test:\(port)"])
        }
    }

    @Test func aProxyThatWantsCredentials() async throws {
        try await withTLSEmulator { bench in
            let proxy = try ConnectProxy(credentials: (user: "night job", password: "s3cret:pw"))
            defer { proxy.stop() }
            let url = "https://api.cryptlex.test:\(bench.port)"

            let anonymous = try bench.client(
                url, proxy: HTTPProxy(host: "127.0.0.1", port: proxy.port), authorities: bench.ca)
            let refused = await transportFailure { try await anonymous.findLicenses(LicenseQuery()) }
            try await anonymous.shutdown()
            if case .refused(let reason) = refused {
                #expect(reason.contains("407") && reason.contains("asks for credentials"))
            } else {
                Issue.record("expected .refused, got \(String(describing: refused))")
            }

            let wrong = try bench.client(
                url, proxy: HTTPProxy(host: "127.0.0.1", port: proxy.port, credentials: ("night job", "guess")),
                authorities: bench.ca)
            let wrongFailure = await transportFailure { try await wrong.findLicenses(LicenseQuery()) }
            if case .refused(let reason) = wrongFailure {
                #expect(reason.contains("refused the credentials") && !reason.contains("guess"))
            } else {
                Issue.record("expected .refused, got \(String(describing: wrongFailure))")
            }
            try await wrong.shutdown()

            // Percent-encoded in the URL, as HTTPS_PROXY carries them.
            let parsed = try HTTPProxy("http://night%20job:s3cret%3Apw@127.0.0.1:\(proxy.port)", source: "test")
            #expect(parsed.description == "http://127.0.0.1:\(proxy.port)")
            let client = try bench.client(url, proxy: parsed, authorities: bench.ca)
            _ = try await client.createLicense(LicenseRequest(productId: "prod-1"))
            #expect(await bench.emulator.store.allLicenses().count == 1)
            #expect(
                proxy.connects.last?.authorization == "Basic " + Data("night job:s3cret:pw".utf8).base64EncodedString())
            try await client.shutdown()
        }
    }
}

@Suite("Proxy and CA settings")
struct ProxySettingsTests {
    let https = try! CryptlexBaseURL("https://api.cryptlex.com")

    @Test func theVariablesThatApplyToTheURLsScheme() throws {
        #expect(try HTTPProxy.from(environment: [:], for: https) == nil)
        #expect(
            try HTTPProxy.from(environment: ["HTTPS_PROXY": "proxy.corp:3128"], for: https)
                == HTTPProxy(host: "proxy.corp", port: 3128))
        #expect(
            try HTTPProxy.from(environment: ["https_proxy": "http://a:1", "HTTPS_PROXY": "http://b:2"], for: https)?
                .host == "a")
        #expect(try HTTPProxy.from(environment: ["HTTP_PROXY": "http://b:2"], for: https) == nil)
        let http = try CryptlexBaseURL("http://emulator.lan:8080")
        #expect(
            try HTTPProxy.from(environment: ["HTTP_PROXY": "http://b:2", "HTTPS_PROXY": "http://a:1"], for: http)?.host
                == "b")
        #expect(try HTTPProxy.from(environment: ["HTTPS_PROXY": "http://proxy"], for: https)?.port == 80)
        // Loopback goes direct: a rehearsal against the local emulator is never sent to the proxy.
        #expect(
            try HTTPProxy.from(
                environment: ["HTTPS_PROXY": "http://a:1"], for: CryptlexBaseURL("https://localhost:9443")) == nil)
        #expect(
            try HTTPProxy.from(environment: ["HTTP_PROXY": "http://a:1"], for: CryptlexBaseURL("http://127.0.0.1:9000"))
                == nil)
    }

    @Test(arguments: [
        ("cryptlex.com", true), (".cryptlex.com", true), ("*.cryptlex.com", true), ("api.cryptlex.com", true),
        ("API.Cryptlex.COM", true), ("example.com, cryptlex.com", true), ("*", true),
        ("cryptlex.com:443", true), ("cryptlex.com:8443", false), ("lex.com", false), ("pi.cryptlex.com", false),
        ("example.com", false), ("", false),
    ])
    func noProxy(list: String, direct: Bool) throws {
        let environment = ["HTTPS_PROXY": "http://proxy.corp:3128", "NO_PROXY": list]
        #expect((try HTTPProxy.from(environment: environment, for: https) == nil) == direct)
    }

    @Test func noProxyAddressesAndNetworks() {
        #expect(ProxyBypass("10.0.0.0/8").matches(host: "10.20.30.40", port: 443))
        #expect(!ProxyBypass("10.0.0.0/8").matches(host: "11.0.0.1", port: 443))
        #expect(ProxyBypass("192.168.1.7").matches(host: "192.168.1.7", port: 443))
        #expect(ProxyBypass("::1, [fd00::1]:443").matches(host: "[fd00::1]", port: 443))
        #expect(ProxyBypass("no_proxy=bad/99").matches(host: "x", port: 1) == false)
    }

    @Test(arguments: [
        "https://proxy:443", "socks5://proxy:1080", "http://proxy:99999", "http://:8080", "http://proxy:80/path",
    ])
    func unusableProxies(text: String) {
        #expect(throws: HTTPProxy.Invalid.self) { try HTTPProxy(text, source: "HTTPS_PROXY") }
    }

    @Test func aProxyErrorNeverShowsThePassword() {
        do {
            _ = try HTTPProxy("https://user:hunter2@proxy:443", source: "HTTPS_PROXY")
            Issue.record("expected an error")
        } catch {
            #expect(error.localizedDescription.contains("HTTPS_PROXY"))
            #expect(!error.localizedDescription.contains("hunter2"))
        }
        let proxy = HTTPProxy(host: "proxy", port: 3128, credentials: ("user", "hunter2"))
        #expect(!"\(proxy)".contains("hunter2") && !String(reflecting: proxy).contains("hunter2"))
    }

    @Test func caFilesThatCannotBeUsed() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("licprov-ca-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        #expect(throws: CertificateAuthorities.Unreadable.self) {
            try CertificateAuthorities.load(pemFile: folder + "/missing.pem", source: "--ca-file")
        }
        try "not a certificate".write(toFile: folder + "/text.pem", atomically: true, encoding: .utf8)
        do {
            _ = try CertificateAuthorities.load(pemFile: folder + "/text.pem", source: "--ca-file")
            Issue.record("expected an error")
        } catch {
            #expect(error.localizedDescription.contains("holds no PEM certificate"))
        }
        try "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n".write(
            toFile: folder + "/broken.pem", atomically: true, encoding: .utf8)
        #expect(throws: CertificateAuthorities.Unreadable.self) {
            try CertificateAuthorities.load(pemFile: folder + "/broken.pem", source: "--ca-file")
        }
        let files = try TestCertificateAuthority.licprov.writeFiles(to: folder)
        let bundle =
            try String(contentsOfFile: files.ca, encoding: .utf8) + "\n"
            + TestCertificateAuthority.other.certificatePEM
        try bundle.write(toFile: folder + "/bundle.pem", atomically: true, encoding: .utf8)
        #expect(try CertificateAuthorities.load(pemFile: folder + "/bundle.pem", source: "--ca-file").count == 2)
    }
}

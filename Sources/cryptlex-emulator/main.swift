import ArgumentParser
import BuildInfo
import CryptlexEmulator
import Foundation
import Hummingbird
import Logging

extension RateWindowStyle: ExpressibleByArgument {}

/// Serves a local Cryptlex Web API v3 for tests, demos and rehearsals.
@main
struct CryptlexEmulatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cryptlex-emulator",
        abstract: "A local Cryptlex Web API v3 with its rate limit and switchable faults.",
        discussion: """
            The first line on stdout is `listening on http://127.0.0.1:PORT` (https with --tls-cert and --tls-key). Admin routes live under
            /__admin/ (licenses, users, counters, faults, reset). Faults: 429, 500, 502, 503, 504, reset,
            lost-response, e.g. `--fault 500=0.05 --fault lost-response=0.05`.
            """,
        version: BuildInfo.versionLine
    )

    @Option(help: "The port to listen on; 0 picks a free one.") var port = 0
    @Option(help: "The address to listen on.") var host = "127.0.0.1"
    @Option(help: "The bearer token to accept (default: the CRYPTLEX_EMULATOR_TOKEN variable).") var token: String?
    @Option(help: "A second token that may read but not write (its POSTs get 403).") var readOnlyToken: String?
    @Option(name: .customLong("product"), help: "A product id that exists (repeatable); with none, any id is accepted.")
    var products: [String] = []
    @Option(help: "Requests allowed per window and client IP.") var rateLimit = 50
    @Option(help: "The rate-limit window, in seconds.") var rateWindow = 5
    @Option(
        help:
            "How windows are counted: grid (on the wall clock's grid), first-request (from the first request after the last window expired), first-request-grid-reported (counted so, but the headers and Retry-After report the grid's end, as AspNetCoreRateLimit's Redis strategy)."
    )
    var rateWindowStyle: RateWindowStyle = .grid
    @Option(help: "Spread X-Rate-Limit-Reset between answers of one window by up to this many milliseconds.")
    var rateResetNoiseMs = 0
    @Flag(help: "Switch the rate limit off.") var noRateLimit = false
    @Option(
        name: .customLong("refuse-operator"),
        help: "A list filter operator to refuse with 400 (repeatable: in, sw, …), as a server without it would.")
    var refusedOperators: [String] = []
    @Option(
        name: .customLong("fault"),
        help: "KIND=PROBABILITY (0…1), repeatable. Kinds: 429 500 502 503 504 reset lost-response.")
    var faultSpecs: [String] = []
    @Option(help: "Latency added to every /v3 request, in milliseconds.") var latencyMs = 0
    @Option(help: "Random extra latency, 0…N milliseconds.") var jitterMs = 0
    @Option(help: "Retry-After seconds on injected 503s.") var retryAfter = 1
    @Option(
        help: "New licenses stay invisible to GET /v3/licenses for this many milliseconds (a lagging search index).")
    var lookupLagMs = 0
    @Option(help: "Seed for faults, ids and keys.") var seed: UInt64 = 1
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.") var logLevel = "warning"
    @Option(help: "Serve HTTPS with this PEM certificate (chain) file; needs --tls-key.") var tlsCert: String?
    @Option(help: "The PEM private key of --tls-cert.") var tlsKey: String?

    /// Every numeric flag in its range: a usage error (exit 64) naming the range, never a trap later.
    func validate() throws {
        func check(_ flag: String, _ value: Int, _ range: ClosedRange<Int>) throws {
            guard range.contains(value) else {
                throw ValidationError("--\(flag) must be from \(range.lowerBound) to \(range.upperBound), not \(value)")
            }
        }
        try check("port", port, 0...65_535)
        try check("rate-limit", rateLimit, 1...1_000_000)
        try check("rate-window", rateWindow, 1...86_400)
        try check("latency-ms", latencyMs, FaultSettings.millisecondsRange)
        try check("jitter-ms", jitterMs, FaultSettings.millisecondsRange)
        try check("lookup-lag-ms", lookupLagMs, FaultSettings.millisecondsRange)
        try check("retry-after", retryAfter, FaultSettings.retryAfterRange)
        try check("rate-reset-noise-ms", rateResetNoiseMs, 0...(rateWindow * 1000))
        guard (tlsCert == nil) == (tlsKey == nil) else { throw ValidationError("--tls-cert and --tls-key go together") }
    }

    func run() async throws {
        var rules: [FaultRule] = []
        for spec in faultSpecs {
            let parts = spec.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, let fault = Fault(rawValue: parts[0]), let probability = Double(parts[1]),
                (0...1).contains(probability)
            else {
                throw ValidationError(
                    "--fault \(spec): expected KIND=PROBABILITY with KIND one of \(Fault.allCases.map(\.rawValue).joined(separator: ", ")) and a probability from 0 to 1"
                )
            }
            rules.append(FaultRule(fault: fault, probability: probability))
        }
        guard let token = token ?? ProcessInfo.processInfo.environment["CRYPTLEX_EMULATOR_TOKEN"], !token.isEmpty else {
            throw ValidationError("give the token to accept with --token or CRYPTLEX_EMULATOR_TOKEN")
        }
        var logger = Logger(label: "cryptlex-emulator")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .warning
        let emulator = try CryptlexEmulator(
            configuration: EmulatorConfiguration(
                token: token,
                readOnlyToken: readOnlyToken,
                products: Set(products),
                rateLimit: noRateLimit ? nil : rateLimit,
                rateWindowSeconds: rateWindow,
                rateWindowStyle: rateWindowStyle,
                rateResetNoiseMilliseconds: rateResetNoiseMs,
                refusedOperators: Set(refusedOperators),
                faults: FaultSettings(
                    rules: rules, latencyMilliseconds: latencyMs, jitterMilliseconds: jitterMs,
                    retryAfterSeconds: retryAfter,
                    lookupLagMilliseconds: lookupLagMs),
                seed: seed
            ))
        let host = self.host
        let tls = tlsCert.flatMap { cert in tlsKey.map { EmulatorTLS(certificatePath: cert, privateKeyPath: $0) } }
        let scheme = tls == nil ? "http" : "https"
        let app = try emulator.application(host: host, port: port, tls: tls, logger: logger) { port in
            FileHandle.standardOutput.write(Data("listening on \(scheme)://\(host):\(port)\n".utf8))
        }
        try await app.runService()
    }
}

import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore

/// A local Cryptlex Web API v3: the four operations licprov uses, checked against the published
/// schema, with Cryptlex's rate limit and switchable faults.
///
/// ```swift
/// let emulator = try CryptlexEmulator(configuration: .init(token: "t"))
/// let app = emulator.application(port: 0) { port in print("listening on \(port)") }
/// try await app.runService()
/// ```
public struct CryptlexEmulator: Sendable {
    public let configuration: EmulatorConfiguration
    /// Licenses, users and counters.
    public let store: EmulatorStore
    /// The rate limiter, or nil when the limit is off.
    public let rateLimiter: FixedWindowRateLimiter?
    /// The fault switches.
    public let faults: FaultInjector
    /// What "now" is: the wall clock, or a simulation's.
    public let clock: EmulatorClock
    let validator: SchemaValidator

    public init(configuration: EmulatorConfiguration, validator: SchemaValidator? = nil, clock: EmulatorClock = .wall)
        throws
    {
        self.configuration = configuration
        self.clock = clock
        self.validator = try validator ?? SchemaValidator.bundled()
        self.store = EmulatorStore(products: configuration.products, seed: configuration.seed)
        self.rateLimiter = configuration.rateLimit.map {
            FixedWindowRateLimiter(
                limit: $0, windowSeconds: configuration.rateWindowSeconds, style: configuration.rateWindowStyle,
                resetNoiseTicks: Int64(configuration.rateResetNoiseMilliseconds) * 10_000, seed: configuration.seed)
        }
        self.faults = FaultInjector(settings: configuration.faults, seed: configuration.seed)
    }

    /// A Hummingbird application serving the emulator on 127.0.0.1 (port 0 picks a free port),
    /// over TLS when `tls` is given.
    ///
    /// `onListening` receives the bound port once the server accepts connections.
    public func application(
        host: String = "127.0.0.1",
        port: Int,
        tls: EmulatorTLS? = nil,
        logger: Logger = Logger(label: "cryptlex-emulator"),
        onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) throws -> some ApplicationProtocol {
        let router = self.router()
        let server: HTTPServerBuilder =
            try tls.map { try .tls(.http1(), tlsConfiguration: $0.serverConfiguration()) } ?? .http1()
        return Application(
            router: router,
            server: server,
            configuration: .init(address: .hostname(host, port: port), serverName: "cryptlex-emulator"),
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? port) },
            logger: logger
        )
    }

    /// Every route: the `/v3` API and the `/__admin` ones.
    func router() -> Router<EmulatorContext> {
        let router = Router(context: EmulatorContext.self)
        addRoutes(to: router)
        addAdminRoutes(to: router)
        return router
    }
}

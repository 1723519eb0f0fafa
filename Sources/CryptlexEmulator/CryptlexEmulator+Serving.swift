import Hummingbird
import Logging
import ServiceLifecycle

extension CryptlexEmulator {
    /// Serves the emulator on 127.0.0.1 with a free port for the duration of `body`, then shuts
    /// it down gracefully through swift-service-lifecycle (never by cancelling the server).
    ///
    /// `body` receives the base URL, `http://127.0.0.1:PORT` (`https://localhost:PORT` with `tls`).
    public func withRunningServer<T: Sendable>(
        tls: EmulatorTLS? = nil,
        logger: Logger = Logger(label: "cryptlex-emulator"),
        _ body: @Sendable (String) async throws -> T
    ) async throws -> T {
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = try application(port: 0, tls: tls, logger: logger) { port in
            continuation.yield(port)
            continuation.finish()
        }
        let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [], logger: logger))
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask {
                try await group.run()
                continuation.finish()
            }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else {
                try await tasks.waitForAll()
                throw EmulatorError.stoppedBeforeListening
            }
            let result: Result<T, any Error>
            do {
                result = .success(try await body(tls == nil ? "http://127.0.0.1:\(port)" : "https://localhost:\(port)"))
            } catch {
                result = .failure(error)
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return try result.get()
        }
    }
}

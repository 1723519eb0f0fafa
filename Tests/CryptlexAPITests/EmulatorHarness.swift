import CryptlexAPI
import CryptlexEmulator
import CryptlexModels
import Testing

/// Runs `body` with a client connected to a fresh emulator on 127.0.0.1 over real sockets.
func withEmulatorClient<T: Sendable>(
    _ configuration: EmulatorConfiguration = EmulatorConfiguration(
        token: "test-token", products: ["prod-1"], rateLimit: nil),
    token: String = "test-token",
    requestTimeout: Duration = .seconds(10),
    _ body: @Sendable (CryptlexClient, CryptlexEmulator) async throws -> T
) async throws -> T {
    let emulator = try CryptlexEmulator(configuration: configuration)
    return try await emulator.withRunningServer { url in
        let client = CryptlexClient(
            baseURL: try CryptlexBaseURL(url), token: token,
            transport: AsyncHTTPClientTransport(connections: 8, connectTimeout: .seconds(5)),
            requestTimeout: requestTimeout
        )
        do {
            let result = try await body(client, emulator)
            try await client.shutdown()
            return result
        } catch {
            try? await client.shutdown()
            throw error
        }
    }
}

/// The error a throwing call threw, or nil when it succeeded.
func apiError<T>(_ call: () async throws -> T) async -> APIError? {
    do {
        _ = try await call()
        return nil
    } catch let error as APIError {
        return error
    } catch {
        Issue.record("expected an APIError, got \(error)")
        return nil
    }
}

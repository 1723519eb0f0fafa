import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Scheduling

/// ``HTTPTransport`` over AsyncHTTPClient, with a pool sized to the run's concurrency and
/// explicit connect and request timeouts.
///
/// Its main job beyond sending is to tell *not sent* from *maybe sent*: a connection that could
/// not be made is ``TransportError/connectFailed(_:)``; everything that fails once a connection
/// existed is ``TransportError/connectionLost(_:)`` or ``TransportError/timedOut(_:)``.
public final class AsyncHTTPClientTransport: HTTPTransport {
    private let client: HTTPClient
    /// The most bytes a response body may have; a larger one is cut (error bodies are only shown).
    private let maxBodyBytes = 8 * 1024 * 1024

    /// - Parameters:
    ///   - connections: the most connections to one host; size it to the concurrency.
    ///   - connectTimeout: how long to wait for a connection; a refused connection surfaces
    ///     after this, not after AsyncHTTPClient's default 10 s.
    public init(connections: Int, connectTimeout: Duration = .seconds(5)) {
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .nanoseconds(connectTimeout.nanosecondCount), read: nil)
        configuration.connectionPool = .init(
            idleTimeout: .seconds(60),
            concurrentHTTP1ConnectionsPerHostSoftLimit: max(1, connections)
        )
        configuration.redirectConfiguration = .disallow
        configuration.decompression = .disabled
        client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }

    public func send(_ request: TransportRequest) async throws(TransportError) -> TransportResponse {
        var outgoing = HTTPClientRequest(url: request.url)
        outgoing.method = HTTPMethod(rawValue: request.method)
        for (name, value) in request.headers { outgoing.headers.add(name: name, value: value) }
        if let body = request.body { outgoing.body = .bytes(ByteBuffer(bytes: body)) }
        do {
            let response = try await client.execute(outgoing, timeout: .nanoseconds(request.timeout.nanosecondCount))
            let buffer = try await response.body.collect(upTo: maxBodyBytes)
            return TransportResponse(
                status: Int(response.status.code),
                headers: response.headers.map { ($0.name, $0.value) },
                body: Array(buffer.readableBytesView)
            )
        } catch {
            throw Self.classify(error)
        }
    }

    public func shutdown() async throws {
        try await client.shutdown()
    }

    /// Maps AsyncHTTPClient's and NIO's errors onto what they mean for a request's fate.
    static func classify(_ error: any Error) -> TransportError {
        if error is CancellationError { return .cancelled }
        if let error = error as? HTTPClientError {
            switch error {
            case .connectTimeout, .getConnectionFromPoolTimeout, .socksHandshakeTimeout,
                 .httpProxyHandshakeTimeout, .tlsHandshakeTimeout:
                return .connectFailed(String(describing: error))
            case .readTimeout, .writeTimeout, .deadlineExceeded:
                return .timedOut(String(describing: error))
            case .cancelled:
                return .cancelled
            default:
                return .connectionLost(String(describing: error))
            }
        }
        if error is NIOConnectionError { return .connectFailed(String(describing: error)) }
        if let error = error as? ChannelError, case .connectTimeout = error { return .connectFailed(String(describing: error)) }
        if let error = error as? IOError, [ECONNREFUSED, ENETUNREACH, EHOSTUNREACH, EADDRNOTAVAIL].contains(error.errnoCode) {
            return .connectFailed(String(describing: error))
        }
        return .connectionLost(String(describing: error))
    }
}

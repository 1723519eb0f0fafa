import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Scheduling

/// ``HTTPTransport`` over AsyncHTTPClient, with a pool sized to the run's concurrency and
/// explicit connect and request timeouts.
///
/// Its main job beyond sending is to tell *not sent* from *maybe sent*: a connection that could
/// not be made is ``TransportError/connectFailed(_:)``; everything that fails once a connection
/// existed is ``TransportError/connectionLost(_:)`` or ``TransportError/timedOut(_:)``.
package final class AsyncHTTPClientTransport: HTTPTransport {
    private let client: HTTPClient
    /// The proxy requests tunnel through, if any (named in connection failures).
    private let proxy: HTTPProxy?
    /// The most bytes a response body may have; a larger one is cut (error bodies are only shown).
    private let maxBodyBytes = 8 * 1024 * 1024

    /// - Parameters:
    ///   - connections: the most connections to one host; size it to the concurrency.
    ///   - connectTimeout: how long to wait for a connection; a refused connection surfaces
    ///     after this, not after AsyncHTTPClient's default 10 s.
    ///   - proxy: an HTTP proxy to tunnel through with `CONNECT` (TLS stays end to end).
    ///   - authorities: the certificate authorities to trust instead of the system's.
    package init(
        connections: Int, connectTimeout: Duration = .seconds(5), proxy: HTTPProxy? = nil,
        authorities: CertificateAuthorities? = nil
    ) {
        var configuration = HTTPClient.Configuration()
        if let proxy {
            configuration.proxy = .server(
                host: proxy.host, port: proxy.port,
                authorization: proxy.credentials.map { .basic(username: $0.user, password: $0.password) })
        }
        // Certificates are always verified, host name included: there is no switch to turn it off.
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.certificateVerification = .fullVerification
        if let authorities { tls.trustRoots = .certificates(authorities.certificates) }
        configuration.tlsConfiguration = tls
        self.proxy = proxy
        configuration.timeout = .init(connect: .nanoseconds(connectTimeout.nanosecondCount), read: nil)
        configuration.connectionPool = .init(
            idleTimeout: .seconds(60),
            concurrentHTTP1ConnectionsPerHostSoftLimit: max(1, connections)
        )
        configuration.redirectConfiguration = .disallow
        configuration.decompression = .disabled
        client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }

    package func send(_ request: TransportRequest) async throws(TransportError) -> TransportResponse {
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
            throw Self.classify(error, proxy: proxy)
        }
    }

    package func shutdown() async throws {
        try await client.shutdown()
    }

    /// Maps AsyncHTTPClient's, NIO's and NIOSSL's errors onto what they mean for a request's fate.
    static func classify(_ error: any Error, proxy: HTTPProxy? = nil) -> TransportError {
        if error is CancellationError { return .cancelled }
        let via = proxy.map { " through the proxy \($0)" } ?? ""
        // The handshake comes before the request's first byte: a failed one sent nothing.
        if let error = error as? NIOSSLError {
            switch error {
            case .handshakeFailed, .unableToValidateCertificate, .noCertificateToValidate, .cannotMatchULabel:
                return .refused(Self.describeHandshake(error) + via)
            default:
                break
            }
        }
        if error is NIOSSLExtraError { return .refused(Self.describeHandshake(error) + via) }
        if let error = error as? HTTPClientError {
            switch error {
            case .proxyAuthenticationRequired:
                return .refused(
                    proxy?.credentials == nil
                        ? "the proxy \(proxy?.description ?? "") asks for credentials (HTTP 407): give them as http://USER:PASSWORD@HOST:PORT in HTTPS_PROXY"
                        : "the proxy \(proxy?.description ?? "") refused the credentials given (HTTP 407)")
            case .invalidProxyResponse:
                return .refused("the proxy \(proxy?.description ?? "") refused to open a tunnel (CONNECT) to the API")
            default:
                break
            }
            switch error {
            case .connectTimeout, .getConnectionFromPoolTimeout, .socksHandshakeTimeout,
                .httpProxyHandshakeTimeout, .tlsHandshakeTimeout:
                return .connectFailed(String(describing: error) + via)
            case .readTimeout, .writeTimeout, .deadlineExceeded:
                return .timedOut(String(describing: error))
            case .cancelled:
                return .cancelled
            default:
                return .connectionLost(String(describing: error))
            }
        }
        if error is NIOConnectionError { return .connectFailed(String(describing: error) + via) }
        if let error = error as? ChannelError, case .connectTimeout = error {
            return .connectFailed(String(describing: error) + via)
        }
        if let error = error as? IOError,
            [ECONNREFUSED, ENETUNREACH, EHOSTUNREACH, EADDRNOTAVAIL].contains(error.errnoCode)
        {
            return .connectFailed(String(describing: error) + via)
        }
        return .connectionLost(String(describing: error))
    }

    /// A failed TLS handshake in words: an untrusted certificate says so (the usual cause is a
    /// corporate proxy re-signing TLS, or a private CA), anything else keeps BoringSSL's reason.
    static func describeHandshake(_ error: any Error) -> String {
        let text = String(describing: error)
        if text.contains("CERTIFICATE_VERIFY_FAILED") {
            return
                "TLS handshake failed: the server's certificate is not trusted (CERTIFICATE_VERIFY_FAILED: it does not chain to a trusted authority or does not name the host)"
        }
        if text.contains("WRONG_VERSION_NUMBER") {
            return "TLS handshake failed: the server did not answer in TLS (is it plain http?)"
        }
        return "TLS handshake failed (\(text))"
    }
}

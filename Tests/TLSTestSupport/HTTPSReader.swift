import AsyncHTTPClient
import Foundation
import NIOCore
import NIOSSL

/// GETs over HTTPS trusting only a test CA: how a test reads the admin routes of an emulator
/// that serves TLS (Foundation's URLSession on Linux cannot be told to trust a CA).
public enum HTTPSReader {
    public static func get(_ url: String, trusting caPEM: String) async throws -> Data {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(caPEM.utf8)))
        let client = HTTPClient(
            eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: .init(tlsConfiguration: tls))
        do {
            let response = try await client.execute(HTTPClientRequest(url: url), timeout: .seconds(30))
            let body = try await response.body.collect(upTo: 64 << 20)
            try await client.shutdown()
            return Data(body.readableBytesView)
        } catch {
            try? await client.shutdown()
            throw error
        }
    }
}

import Foundation
import NIOSSL

/// The certificate and key the emulator serves TLS with (`--tls-cert`, `--tls-key`): PEM files,
/// the certificate file holding the server's certificate first, then any intermediates.
///
/// With them the emulator listens on `https://`, so a rehearsal exercises the same TLS path (and
/// the same `--ca-file` or proxy set-up) as the real API.
public struct EmulatorTLS: Sendable {
    public var certificatePath: String
    public var privateKeyPath: String

    public init(certificatePath: String, privateKeyPath: String) {
        self.certificatePath = certificatePath
        self.privateKeyPath = privateKeyPath
    }

    /// The server configuration; a file that cannot be read or parsed is an error naming it.
    func serverConfiguration() throws(EmulatorError) -> TLSConfiguration {
        let chain: [NIOSSLCertificate]
        let key: NIOSSLPrivateKey
        do {
            chain = try NIOSSLCertificate.fromPEMFile(certificatePath)
        } catch {
            throw .tlsFileUnusable(path: certificatePath, reason: "is not a readable PEM certificate file (\(error))")
        }
        guard !chain.isEmpty else { throw .tlsFileUnusable(path: certificatePath, reason: "holds no certificate") }
        do {
            key = try NIOSSLPrivateKey(file: privateKeyPath, format: .pem)
        } catch {
            throw .tlsFileUnusable(path: privateKeyPath, reason: "is not a readable PEM private key (\(error))")
        }
        return TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
    }
}

import Foundation
import NIOSSL

/// The certificate authorities licprov trusts instead of the system's: from `--ca-file` or
/// `SSL_CERT_FILE`, a PEM file with one or more certificates (a corporate root, say).
///
/// The file *replaces* the system's trust store, as `curl --cacert` and OpenSSL's `SSL_CERT_FILE`
/// do: the API's certificate must chain to one of these. Loaded (and checked) before anything is
/// sent, so a wrong path is a usage error, not a failure at the first request.
package struct CertificateAuthorities: Sendable {
    let certificates: [NIOSSLCertificate]
    /// Where they came from, for messages.
    package let source: String

    /// A CA file that cannot be used, and why.
    package struct Unreadable: Error, LocalizedError, Sendable {
        package var path: String
        package var reason: String
        package var errorDescription: String? { "the CA file \(path) \(reason)" }
    }

    package var count: Int { certificates.count }

    /// Reads every PEM certificate in `path`.
    package static func load(pemFile path: String, source: String) throws(Unreadable) -> CertificateAuthorities {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Unreadable(path: path, reason: "cannot be read (from \(source)); check the path and its permissions")
        }
        guard String(decoding: data.prefix(1 << 20), as: UTF8.self).contains("-----BEGIN CERTIFICATE-----") else {
            throw Unreadable(
                path: path,
                reason:
                    "holds no PEM certificate (-----BEGIN CERTIFICATE-----); convert a DER file with `openssl x509 -inform der -in FILE -out FILE.pem`"
            )
        }
        let certificates: [NIOSSLCertificate]
        do {
            certificates = try NIOSSLCertificate.fromPEMBytes(Array(data))
        } catch {
            throw Unreadable(path: path, reason: "has a certificate that cannot be parsed (\(error))")
        }
        guard !certificates.isEmpty else { throw Unreadable(path: path, reason: "holds no certificate") }
        return CertificateAuthorities(certificates: certificates, source: source)
    }
}

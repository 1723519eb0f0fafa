import Foundation

/// A certificate authority for the HTTPS tests, and the emulator's server certificates it signed,
/// written as PEM files for `--ca-file`, `--tls-cert` and `--tls-key`.
///
/// The certificates are committed (`TestCertificates.swift`, written by
/// `scripts/make-test-certificates.sh`), not made per test: making them took swift-certificates and
/// swift-crypto, more than a minute of the test build.
public struct TestCertificateAuthority: Sendable {
    public let name: String
    /// The root certificate, PEM.
    public let certificatePEM: String
    let serverPEM: String
    let serverKeyPEM: String
    /// The server certificate without 127.0.0.1 (nil: this authority has none; `serverPEM` serves).
    var namesOnlyServerPEM: String? = nil
    var namesOnlyServerKeyPEM: String? = nil

    /// Writes `ca.pem`, `server.pem` and `server-key.pem` into `directory`; returns their paths.
    /// The server certificate names localhost and api.cryptlex.test, and 127.0.0.1 when
    /// `withAddress`.
    ///
    /// NIOSSL accepts a certificate whose IP address matches the *connected peer's* even when
    /// a host name was asked for; through a proxy that peer is the proxy, so a test of host-name
    /// checks behind a proxy wants the certificate without 127.0.0.1.
    public func writeFiles(to directory: String, withAddress: Bool = true) throws -> (
        ca: String, certificate: String, key: String
    ) {
        let ca = directory + "/ca.pem"
        let cert = directory + "/server.pem"
        let keyFile = directory + "/server-key.pem"
        try (certificatePEM + "\n").write(toFile: ca, atomically: true, encoding: .utf8)
        let (certificate, key) =
            withAddress
            ? (serverPEM, serverKeyPEM) : (namesOnlyServerPEM ?? serverPEM, namesOnlyServerKeyPEM ?? serverKeyPEM)
        try (certificate + "\n").write(toFile: cert, atomically: true, encoding: .utf8)
        try (key + "\n").write(toFile: keyFile, atomically: true, encoding: .utf8)
        return (ca, cert, keyFile)
    }
}

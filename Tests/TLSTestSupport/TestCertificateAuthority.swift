import Crypto
import Foundation
import SwiftASN1
import X509

/// A certificate authority made for one test: a P-256 root, and server certificates it signs,
/// written as PEM files for `--ca-file`, `--tls-cert` and `--tls-key`.
public struct TestCertificateAuthority: Sendable {
    public let name: String
    private let key: P256.Signing.PrivateKey
    private let certificate: Certificate

    /// The root certificate, PEM.
    public let certificatePEM: String

    public init(name: String = "licprov test CA") throws {
        let key = P256.Signing.PrivateKey()
        let subject = try DistinguishedName { CommonName(name) }
        let now = Date()
        certificate = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(key.publicKey),
            notValidBefore: now - 3600, notValidAfter: now + 86_400,
            issuer: subject, subject: subject, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
            },
            issuerPrivateKey: .init(key)
        )
        certificatePEM = try certificate.serializeAsPEM().pemString
        self.key = key
        self.name = name
    }

    /// A server certificate for `dnsNames` and `ipAddresses` (IPv4 dotted quads), signed by this
    /// authority, with its private key.
    public func issue(dnsNames: [String], ipAddresses: [String] = []) throws -> (certificatePEM: String, keyPEM: String)
    {
        let serverKey = P256.Signing.PrivateKey()
        let now = Date()
        let names =
            dnsNames.map { GeneralName.dnsName($0) }
            + ipAddresses.map { address in
                GeneralName.ipAddress(
                    ASN1OctetString(contentBytes: ArraySlice(address.split(separator: ".").compactMap { UInt8($0) })))
            }
        let server = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(serverKey.publicKey),
            notValidBefore: now - 3600, notValidAfter: now + 86_400,
            issuer: certificate.subject, subject: try DistinguishedName { CommonName(dnsNames.first ?? "server") },
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames(names)
            },
            issuerPrivateKey: .init(key)
        )
        return (try server.serializeAsPEM().pemString, serverKey.pemRepresentation)
    }

    /// Writes `ca.pem`, `server.pem` and `server-key.pem` (for `localhost`, `extraNames` and
    /// `ipAddresses`) into `directory`; returns their paths.
    ///
    /// NIOSSL accepts a certificate whose IP address matches the *connected peer's* even when
    /// a host name was asked for; through a proxy that peer is the proxy, so a test of host-name
    /// checks behind a proxy wants a certificate without 127.0.0.1.
    public func writeFiles(to directory: String, extraNames: [String] = [], ipAddresses: [String] = ["127.0.0.1"])
        throws -> (ca: String, certificate: String, key: String)
    {
        let (serverPEM, keyPEM) = try issue(dnsNames: ["localhost"] + extraNames, ipAddresses: ipAddresses)
        let ca = directory + "/ca.pem"
        let cert = directory + "/server.pem"
        let keyFile = directory + "/server-key.pem"
        try certificatePEM.write(toFile: ca, atomically: true, encoding: .utf8)
        try serverPEM.write(toFile: cert, atomically: true, encoding: .utf8)
        try keyPEM.write(toFile: keyFile, atomically: true, encoding: .utf8)
        return (ca, cert, keyFile)
    }
}

import ArgumentParser
import CryptlexAPI
import CryptlexModels
import Foundation

/// Where the token and the API's URL come from. The token is read from the environment or a
/// file, never from the command line (other users can read a process's arguments).
enum Credentials {
    static let tokenVariable = "CRYPTLEX_ACCESS_TOKEN"
    static let urlVariable = "CRYPTLEX_API_URL"

    static func token(file: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws
        -> String
    {
        if let file {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw CredentialError("cannot read the token file \(file)")
            }
            if let attributes = try? FileManager.default.attributesOfItem(atPath: file),
                let mode = attributes[.posixPermissions] as? Int, mode & 0o077 != 0
            {
                Output.error(
                    "warning: the token file \(file) can be read by other users (mode \(String(mode, radix: 8))); chmod 600 it"
                )
            }
            let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard !token.isEmpty else { throw CredentialError("the token file \(file) is empty") }
            return token
        }
        guard let token = environment[tokenVariable]?.trimmingCharacters(in: .whitespacesAndNewlines), !token.isEmpty
        else {
            throw CredentialError(
                "no access token: set \(tokenVariable), or pass --token-file PATH (a file holding the token)")
        }
        return token
    }

    static func baseURL(
        flag: String?, allowInsecureHTTP: Bool, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> CryptlexBaseURL {
        let text = flag ?? environment[urlVariable] ?? CryptlexBaseURL.global.description
        let url: CryptlexBaseURL
        do {
            url = try CryptlexBaseURL(text)
        } catch {
            throw CredentialError(error.localizedDescription)
        }
        if url.scheme == "http" && !url.isLoopback && !allowInsecureHTTP {
            throw CredentialError(
                "the API URL \(url) is plain http: the token would travel in clear. Use https, or pass --allow-insecure-http"
            )
        }
        return url
    }
}

/// The way to the API beyond its URL: the proxy to tunnel through and the authorities to trust.
struct NetworkRoute {
    static let caFileVariable = "SSL_CERT_FILE"

    var proxy: HTTPProxy?
    var authorities: CertificateAuthorities?

    /// `--proxy`, else `HTTPS_PROXY`/`HTTP_PROXY` (with `NO_PROXY`; loopback goes direct);
    /// `--ca-file`, else `SSL_CERT_FILE`, else the system's store. Checked before anything is sent.
    static func resolve(
        for url: CryptlexBaseURL, proxyFlag: String?, caFile: String?,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(CredentialError) -> NetworkRoute {
        var route = NetworkRoute()
        do {
            if let proxyFlag {
                let proxy = try HTTPProxy(proxyFlag, source: "--proxy")
                guard proxy.credentials == nil else {
                    throw CredentialError(
                        "--proxy must not carry a user name or password (other users can read a process's arguments): put http://USER:PASSWORD@HOST:PORT in HTTPS_PROXY instead"
                    )
                }
                if !HTTPProxy.goesDirect(url, environment: environment) { route.proxy = proxy }
            } else {
                route.proxy = try HTTPProxy.from(environment: environment, for: url)
            }
        } catch let error as CredentialError {
            throw error
        } catch {
            throw CredentialError(error.localizedDescription)
        }
        let fromVariable = environment[caFileVariable].flatMap { $0.isEmpty ? nil : $0 }
        if let path = caFile ?? fromVariable, url.scheme == "https" {
            do {
                route.authorities = try CertificateAuthorities.load(
                    pemFile: path, source: caFile != nil ? "--ca-file" : caFileVariable)
            } catch {
                throw CredentialError(error.localizedDescription)
            }
        }
        return route
    }

    /// The transport for `connections` concurrent requests along this route.
    func transport(connections: Int) -> AsyncHTTPClientTransport {
        AsyncHTTPClientTransport(connections: connections, proxy: proxy, authorities: authorities)
    }
}

/// A missing token or a bad API URL: a usage error (exit 64).
struct CredentialError: Error, LocalizedError {
    var message: String
    init(_ message: String) { self.message = message }
    var errorDescription: String? { message }
}

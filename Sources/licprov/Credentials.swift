import ArgumentParser
import CryptlexAPI
import Foundation

/// Where the token and the API's URL come from. The token is read from the environment or a
/// file, never from the command line (other users can read a process's arguments).
enum Credentials {
    static let tokenVariable = "CRYPTLEX_ACCESS_TOKEN"
    static let urlVariable = "CRYPTLEX_API_URL"

    static func token(file: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String {
        if let file {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw CredentialError("cannot read the token file \(file)")
            }
            if let attributes = try? FileManager.default.attributesOfItem(atPath: file),
               let mode = attributes[.posixPermissions] as? Int, mode & 0o077 != 0 {
                Output.error("warning: the token file \(file) can be read by other users (mode \(String(mode, radix: 8))); chmod 600 it")
            }
            let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard !token.isEmpty else { throw CredentialError("the token file \(file) is empty") }
            return token
        }
        guard let token = environment[tokenVariable]?.trimmingCharacters(in: .whitespacesAndNewlines), !token.isEmpty else {
            throw CredentialError("no access token: set \(tokenVariable), or pass --token-file PATH (a file holding the token)")
        }
        return token
    }

    static func baseURL(flag: String?, allowInsecureHTTP: Bool, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> CryptlexBaseURL {
        let text = flag ?? environment[urlVariable] ?? CryptlexBaseURL.global.description
        let url: CryptlexBaseURL
        do {
            url = try CryptlexBaseURL(text)
        } catch {
            throw CredentialError(error.localizedDescription)
        }
        if url.scheme == "http" && !url.isLoopback && !allowInsecureHTTP {
            throw CredentialError("the API URL \(url) is plain http: the token would travel in clear. Use https, or pass --allow-insecure-http")
        }
        return url
    }
}

/// A missing token or a bad API URL: a usage error (exit 64).
struct CredentialError: Error, LocalizedError {
    var message: String
    init(_ message: String) { self.message = message }
    var errorDescription: String? { message }
}

import Foundation

/// A validated API base URL: `https://api.cryptlex.com`, `https://api.eu.cryptlex.com`, or a
/// self-hosted Cryptlex (which may sit under a path prefix).
///
/// Validated up front because AsyncHTTPClient crashes on a port above 65535 and reports other
/// malformed URLs only at the first request.
package struct CryptlexBaseURL: Sendable, Equatable, CustomStringConvertible {
    package static let global = try! CryptlexBaseURL("https://api.cryptlex.com")

    package let scheme: String
    package let host: String
    package let port: Int?
    /// The path prefix without a trailing slash (empty for Cryptlex's own hosts).
    package let pathPrefix: String

    /// Why a URL was refused.
    package struct Invalid: Error, LocalizedError, Sendable {
        package var url: String
        package var reason: String
        package var errorDescription: String? { "the API URL '\(url)' \(reason)" }
    }

    package init(_ text: String) throws(Invalid) {
        func invalid(_ reason: String) -> Invalid { Invalid(url: text, reason: reason) }
        guard let components = URLComponents(string: text.trimmingCharacters(in: .whitespaces)) else {
            throw invalid("is not a URL")
        }
        guard let scheme = components.scheme?.lowercased(), scheme == "https" || scheme == "http" else {
            throw invalid("must start with https:// (or http:// for a local emulator)")
        }
        guard let host = components.host, !host.isEmpty else { throw invalid("has no host") }
        if let port = components.port, !(1...65535).contains(port) { throw invalid("has a port outside 1–65535") }
        if text.contains("@") || components.user != nil { throw invalid("must not carry a user name or password") }
        guard components.query == nil, components.fragment == nil else {
            throw invalid("must not have a query or fragment")
        }
        var path = components.path
        while path.hasSuffix("/") { path.removeLast() }
        if path.hasSuffix("/v3") { path.removeLast(3) }
        self.scheme = scheme
        self.host = host
        self.port = components.port
        self.pathPrefix = path
    }

    /// True for 127.0.0.0/8, ::1 and localhost: the only hosts where plain http is acceptable.
    package var isLoopback: Bool {
        let bare = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        return bare == "localhost" || bare == "::1" || bare.hasPrefix("127.")
    }

    package var description: String {
        "\(scheme)://\(host)\(port.map { ":\($0)" } ?? "")\(pathPrefix)"
    }

    /// The absolute URL of an API path (`/v3/licenses`) with a query string already encoded.
    func url(path: String, query: String?) -> String {
        "\(description)\(path)\(query.map { $0.isEmpty ? "" : "?\($0)" } ?? "")"
    }
}

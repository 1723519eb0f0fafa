import Foundation

/// An HTTP proxy that requests tunnel through with `CONNECT` (TLS then runs end to end, from
/// licprov to the API, through the tunnel): from `--proxy`, `HTTPS_PROXY`/`https_proxy` (for an
/// https API URL) or `HTTP_PROXY`/`http_proxy` (for http), unless `NO_PROXY`/`no_proxy` or a
/// loopback API host says to go direct.
///
/// Accepted forms: `http://host:port`, `host:port` (http assumed), `http://user:password@host:port`
/// (percent-encoded; sent as `Proxy-Authorization: Basic`). No port means 80, as in the URL
/// scheme. `https://` proxies (TLS to the proxy itself) and SOCKS are refused with a message:
/// async-http-client does not speak the first, and the second is not tested here.
package struct HTTPProxy: Sendable, Equatable, CustomStringConvertible {
    package var host: String
    package var port: Int
    /// `user:password` for Basic proxy authorization; never printed.
    package var credentials: (user: String, password: String)?

    /// A proxy URL that cannot be used, and why (the text never includes a password).
    package struct Invalid: Error, LocalizedError, Sendable {
        package var source: String
        package var reason: String
        package var errorDescription: String? { "the proxy in \(source) \(reason)" }
    }

    /// `http://host:port`, without the credentials: safe for logs and messages.
    package var description: String { "http://\(host.contains(":") ? "[\(host)]" : host):\(port)" }

    package static func == (lhs: HTTPProxy, rhs: HTTPProxy) -> Bool {
        lhs.host == rhs.host && lhs.port == rhs.port && lhs.credentials?.user == rhs.credentials?.user
            && lhs.credentials?.password == rhs.credentials?.password
    }

    package init(host: String, port: Int, credentials: (user: String, password: String)? = nil) {
        self.host = host
        self.port = port
        self.credentials = credentials
    }

    /// Parses a proxy URL; `source` names where it came from (`HTTPS_PROXY`, `--proxy`) for the error.
    package init(_ text: String, source: String) throws(Invalid) {
        func invalid(_ reason: String) -> Invalid { Invalid(source: source, reason: reason) }
        var trimmed = text.trimmingCharacters(in: .whitespaces)
        if !trimmed.contains("://") { trimmed = "http://" + trimmed }
        guard let components = URLComponents(string: trimmed), let scheme = components.scheme?.lowercased() else {
            throw invalid("is not a URL (expected http://host:port)")
        }
        guard scheme == "http" else {
            throw invalid(
                "uses \(scheme)://; licprov tunnels through http:// proxies only (CONNECT), with TLS end to end inside the tunnel"
            )
        }
        guard let host = components.host, !host.isEmpty else {
            throw invalid("has no host (expected http://host:port)")
        }
        let port = components.port ?? 80
        guard (1...65535).contains(port) else { throw invalid("has a port outside 1–65535") }
        guard components.path.isEmpty || components.path == "/", components.query == nil, components.fragment == nil
        else {
            throw invalid("must be just http://host:port")
        }
        self.host = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        self.port = port
        if let user = components.user {
            self.credentials = (
                user.removingPercentEncoding ?? user, (components.password ?? "").removingPercentEncoding ?? ""
            )
        }
    }

    /// The proxy for `url` by the usual variables, or nil to go direct: the https variables for an
    /// https URL, the http ones for http (lower case first, as curl reads them); a loopback API
    /// host and any host `NO_PROXY` names go direct.
    package static func from(environment: [String: String], for url: CryptlexBaseURL) throws(Invalid) -> HTTPProxy? {
        let names = url.scheme == "https" ? ["https_proxy", "HTTPS_PROXY"] : ["http_proxy", "HTTP_PROXY"]
        guard let name = names.first(where: { !(environment[$0] ?? "").trimmingCharacters(in: .whitespaces).isEmpty }),
            let value = environment[name], !goesDirect(url, environment: environment)
        else { return nil }
        return try HTTPProxy(value, source: name)
    }

    /// True when `url` is reached directly whatever proxy is set: a loopback host, or one `NO_PROXY` names.
    package static func goesDirect(_ url: CryptlexBaseURL, environment: [String: String]) -> Bool {
        if url.isLoopback { return true }
        let bypass = ProxyBypass(environment["no_proxy"] ?? environment["NO_PROXY"] ?? "")
        return bypass.matches(host: url.host, port: url.port ?? (url.scheme == "https" ? 443 : 80))
    }
}

/// `NO_PROXY`: a comma-separated list of hosts that are reached directly.
///
/// | Entry | Goes direct for |
/// |---|---|
/// | `*` | every host |
/// | `example.com`, `.example.com`, `*.example.com` | example.com and every name under it |
/// | `example.com:8443` | that name (and those under it) on port 8443 only |
/// | `10.1.2.3`, `::1` | that address |
/// | `10.0.0.0/8` | addresses in that IPv4 network |
///
/// Names compare without case; whitespace around entries is ignored.
package struct ProxyBypass: Sendable {
    private let entries: [String]

    package init(_ list: String) {
        entries = list.split(whereSeparator: { $0 == "," || $0 == " " }).map { $0.lowercased() }.filter { !$0.isEmpty }
    }

    package func matches(host rawHost: String, port: Int) -> Bool {
        let host = rawHost.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        for raw in entries {
            if raw == "*" { return true }
            var entry = raw
            var entryPort: Int?
            // host:port, [v6]:port; a bare IPv6 address has several colons and no port.
            if entry.hasPrefix("["), let close = entry.firstIndex(of: "]") {
                let rest = entry[entry.index(after: close)...]
                if rest.hasPrefix(":") { entryPort = Int(rest.dropFirst()) }
                entry = String(entry[entry.index(after: entry.startIndex)..<close])
            } else if entry.filter({ $0 == ":" }).count == 1, let colon = entry.lastIndex(of: ":") {
                entryPort = Int(entry[entry.index(after: colon)...])
                entry = String(entry[..<colon])
            }
            if let entryPort, entryPort != port { continue }
            if entry.contains("/"), let network = IPv4Network(entry) {
                if let address = IPv4Network.address(host), network.contains(address) { return true }
                continue
            }
            if entry.hasPrefix("*.") { entry.removeFirst(2) } else if entry.hasPrefix(".") { entry.removeFirst() }
            if entry.isEmpty { continue }
            if host == entry || host.hasSuffix("." + entry) { return true }
        }
        return false
    }
}

/// An IPv4 network in CIDR notation, for `NO_PROXY` entries like `10.0.0.0/8`.
struct IPv4Network {
    let base: UInt32
    let mask: UInt32

    init?(_ text: String) {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let base = Self.address(String(parts[0])), let bits = Int(parts[1]),
            (0...32).contains(bits)
        else { return nil }
        mask = bits == 0 ? 0 : UInt32.max << (32 - bits)
        self.base = base & mask
    }

    func contains(_ address: UInt32) -> Bool { address & mask == base }

    static func address(_ text: String) -> UInt32? {
        let octets = text.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4 else { return nil }
        var value: UInt32 = 0
        for octet in octets {
            guard let byte = UInt8(octet) else { return nil }
            value = value << 8 | UInt32(byte)
        }
        return value
    }
}

import Foundation

/// One HTTP exchange, as the client sees it: the seam that lets the client run over a real
/// connection pool in production and over a closure in unit tests.
package protocol HTTPTransport: Sendable {
    /// Sends one request and returns the whole response, or throws ``TransportError``.
    func send(_ request: TransportRequest) async throws(TransportError) -> TransportResponse
    /// Releases connections; the transport is unusable afterwards.
    func shutdown() async throws
}

/// A request ready to go on the wire.
package struct TransportRequest: Sendable {
    package var method: String
    /// The absolute URL, query included.
    package var url: String
    package var headers: [(String, String)]
    package var body: [UInt8]?
    package var timeout: Duration

    package init(method: String, url: String, headers: [(String, String)], body: [UInt8]?, timeout: Duration) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
    }
}

/// A whole response: status, headers (names compared case-insensitively) and body bytes.
package struct TransportResponse: Sendable {
    package var status: Int
    package var headers: [(String, String)]
    package var body: [UInt8]

    package init(status: Int, headers: [(String, String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The first header named `name`, case-insensitively.
    package func header(_ name: String) -> String? {
        headers.first { Self.equalIgnoringASCIICase($0.0, name) }?.1
    }

    /// Header names are ASCII; comparing bytes avoids Foundation's locale-aware comparison.
    static func equalIgnoringASCIICase(_ a: String, _ b: String) -> Bool {
        var a = a
        var b = b
        return a.withUTF8 { x in
            b.withUTF8 { y in
                guard x.count == y.count else { return false }
                for index in 0..<x.count
                where x[index] | 0x20 != y[index] | 0x20 || (x[index] != y[index] && !Self.isLetter(x[index])) {
                    return false
                }
                return true
            }
        }
    }

    private static func isLetter(_ byte: UInt8) -> Bool {
        (byte | 0x20) >= UInt8(ascii: "a") && (byte | 0x20) <= UInt8(ascii: "z")
    }
}

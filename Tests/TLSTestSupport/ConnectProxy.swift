import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A small HTTP `CONNECT` proxy on 127.0.0.1, started by a test: it opens a tunnel to the port a
/// client asks for, records every `CONNECT` (target and `Proxy-Authorization`), and can demand
/// Basic credentials (407 otherwise).
///
/// Every host name resolves to 127.0.0.1 *in the proxy*, as a corporate proxy resolves names
/// the client cannot: a client that reaches `api.cryptlex.test` must have come through here.
///
/// Blocking sockets and a thread per direction: a test proxy with a handful of tunnels, where
/// plain POSIX is shorter and easier to trust than a NIO pipeline.
public final class ConnectProxy: @unchecked Sendable {
    // @unchecked: `lock` guards `records` and `open`; the rest is immutable after init.
    /// One `CONNECT` the proxy received.
    public struct Record: Sendable, Equatable {
        public var target: String
        public var authorization: String?
    }

    public let port: Int
    private let listener: Int32
    private let requiredAuthorization: String?
    private let lock = NSLock()
    private var records: [Record] = []
    private var open: Set<Int32> = []
    private var stopped = false

    /// Starts listening; with `credentials`, a `CONNECT` without `Proxy-Authorization: Basic` for
    /// them is answered 407.
    public init(credentials: (user: String, password: String)? = nil) throws {
        requiredAuthorization = credentials.map {
            "Basic " + Data("\($0.user):\($0.password)".utf8).base64EncodedString()
        }
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(socket, 64) == 0 else {
            close(socket)
            throw POSIXError(.init(rawValue: errno) ?? .EIO)
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socket, $0, &length) }
        }
        listener = socket
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread { [self] in acceptLoop() }.start()
    }

    /// Every `CONNECT` so far.
    public var connects: [Record] { lock.withLock { records } }

    /// `http://127.0.0.1:PORT`, with `user:password@` when given.
    public func url(user: String? = nil, password: String? = nil) -> String {
        let credentials = user.map { "\($0):\(password ?? "")@" } ?? ""
        return "http://\(credentials)127.0.0.1:\(port)"
    }

    /// Stops accepting and closes every tunnel.
    public func stop() {
        let first = lock.withLock {
            defer { stopped = true }
            for fd in open { shutdown(fd, Int32(SHUT_RDWR)) }
            return !stopped
        }
        guard first else { return }
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    deinit { stop() }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 {
                if errno == EINTR { continue }
                return
            }
            lock.withLock { _ = open.insert(client) }
            Thread { [self] in serve(client) }.start()
        }
    }

    private func serve(_ client: Int32) {
        defer { closeTracked(client) }
        // The request head, up to the blank line (a client sends nothing more before the 200).
        var head = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !head.ends(with: [13, 10, 13, 10]) {
            let count = read(client, &buffer, buffer.count)
            guard count > 0, head.count < 16_384 else { return }
            head += buffer[0..<count]
        }
        let lines = String(decoding: head, as: UTF8.self).components(separatedBy: "\r\n")
        let parts = lines[0].split(separator: " ")
        guard parts.count == 3, parts[0] == "CONNECT", let colon = parts[1].lastIndex(of: ":"),
            let targetPort = UInt16(parts[1][parts[1].index(after: colon)...])
        else {
            send(client, "HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            return
        }
        let authorization = lines.dropFirst().first { $0.lowercased().hasPrefix("proxy-authorization:") }
            .map { String($0.dropFirst("proxy-authorization:".count)).trimmingCharacters(in: .whitespaces) }
        lock.withLock { records.append(Record(target: String(parts[1]), authorization: authorization)) }
        if let requiredAuthorization, authorization != requiredAuthorization {
            send(
                client,
                "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"test\"\r\nContent-Length: 0\r\n\r\n"
            )
            return
        }
        let upstream = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard upstream >= 0 else { return }
        lock.withLock { _ = open.insert(upstream) }
        defer { closeTracked(upstream) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = targetPort.bigEndian
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(upstream, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            send(client, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
            return
        }
        send(client, "HTTP/1.1 200 Connection Established\r\n\r\n")
        let upstreamDone = DispatchSemaphore(value: 0)
        Thread {
            Self.pump(from: client, to: upstream)
            upstreamDone.signal()
        }.start()
        Self.pump(from: upstream, to: client)
        upstreamDone.wait()
    }

    /// Copies until end of file or an error, then half-closes the destination.
    private static func pump(from source: Int32, to destination: Int32) {
        var buffer = [UInt8](repeating: 0, count: 16_384)
        while true {
            let count = read(source, &buffer, buffer.count)
            if count <= 0 { break }
            var offset = 0
            while offset < count {
                // send(MSG_NOSIGNAL): a peer that went away must not SIGPIPE the test process.
                let written = buffer.withUnsafeBytes {
                    Glibc.send(destination, $0.baseAddress! + offset, count - offset, Int32(MSG_NOSIGNAL))
                }
                if written <= 0 {
                    shutdown(destination, Int32(SHUT_WR))
                    return
                }
                offset += written
            }
        }
        shutdown(destination, Int32(SHUT_WR))
    }

    private func send(_ fd: Int32, _ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, bytes.count, Int32(MSG_NOSIGNAL)) }
    }

    private func closeTracked(_ fd: Int32) {
        lock.withLock { _ = open.remove(fd) }
        close(fd)
    }
}

extension Array where Element == UInt8 {
    fileprivate func ends(with suffix: [UInt8]) -> Bool {
        count >= suffix.count && Array(self[(count - suffix.count)...]) == suffix
    }
}

import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Synchronization

/// The emulator called in process: the same routes, gate, rate limit and faults as over HTTP,
/// with no socket — for tests of logic and for simulations that must not depend on a network's
/// timing.
///
/// A reset connection (the `reset` and `lost-response` faults, a dropped hold) is `nil`: the
/// caller sees what a client sees when the server closes without a reply.
///
/// ```swift
/// let server = InProcessEmulator(try CryptlexEmulator(configuration: .init(token: "t")))
/// let reply = await server.respond(method: "GET", target: "/v3/products/p1", headers: [("Authorization", "Bearer t")])
/// ```
public struct InProcessEmulator: Sendable {
    /// A whole response.
    public struct Reply: Sendable {
        public var status: Int
        /// Names as the emulator writes them (compare case-insensitively).
        public var headers: [(String, String)]
        public var body: [UInt8]
    }

    public let emulator: CryptlexEmulator
    private let responder: RouterResponder<EmulatorContext>
    private let logger: Logger

    public init(_ emulator: CryptlexEmulator, logger: Logger = Logger(label: "cryptlex-emulator")) {
        self.emulator = emulator
        self.responder = emulator.router().buildResponder()
        self.logger = logger
    }

    /// Serves one request. `target` is the path with its query (`/v3/licenses?page=2`);
    /// `clientIP` is the rate limit's key, as the peer's address is over HTTP.
    public func respond(
        method: String, target: String, headers: [(String, String)], body: [UInt8] = [],
        clientIP: String = "127.0.0.1"
    ) async -> Reply? {
        var fields = HTTPFields()
        for (name, value) in headers {
            if let name = HTTPField.Name(name) { fields.append(HTTPField(name: name, value: value)) }
        }
        let head = HTTPRequest(
            method: HTTPRequest.Method(method) ?? .get, scheme: "http", authority: "emulator", path: target,
            headerFields: fields)
        let request = Request(head: head, body: RequestBody(buffer: ByteBuffer(bytes: body)))
        let peer = InProcessPeer(clientIP: clientIP)
        let context = EmulatorContext(peer: peer, logger: logger)
        // An error becomes its response, as the HTTP server makes it; a reset connection has none.
        var answer: Response?
        do {
            answer = try await responder.respond(to: request, context: context)
        } catch let error as any HTTPResponseError {
            answer = try? error.response(from: request, context: context)
        } catch {
            answer = Response(status: .internalServerError)
        }
        guard !peer.isReset, var response = answer else { return nil }
        // As the HTTP server adds them: the client reads the server's time from `Date`.
        response.headers[.date] = RFC3339.httpDate(ticks: emulator.clock.nowTicks)
        response.headers[.server] = "cryptlex-emulator"
        let sink = BodyCollector.Sink()
        try? await response.body.write(BodyCollector(sink: sink))
        return Reply(
            status: Int(response.status.code),
            headers: response.headers.map { ($0.name.rawName, $0.value) },
            body: sink.bytes.withLock { $0 })
    }
}

/// Gathers a response body's buffers.
private struct BodyCollector: ResponseBodyWriter {
    final class Sink: Sendable {
        let bytes = Mutex<[UInt8]>([])
    }
    let sink: Sink

    mutating func write(_ buffer: ByteBuffer) async throws { sink.bytes.withLock { $0 += buffer.readableBytesView } }
    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
}

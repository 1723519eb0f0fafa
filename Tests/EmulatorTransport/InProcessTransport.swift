import CryptlexAPI
import CryptlexEmulator
import Scheduling
import Synchronization

/// licprov's transport seam wired straight to an emulator in the same process: no socket, no
/// port, no event loop. Tests of the engine's logic run on it (the real-socket paths keep their
/// own tests: the client's, the TLS and proxy ones, the end-to-end suites).
///
/// What a socket would show as a dropped connection — the emulator's `reset` and `lost-response`
/// faults, a hold that ends — is ``TransportError/connectionLost(_:)``, as
/// `AsyncHTTPClientTransport` reports a reset; the base URL's scheme and host are ignored.
package struct InProcessTransport: HTTPTransport {
    package let server: InProcessEmulator

    package init(_ emulator: CryptlexEmulator) {
        server = InProcessEmulator(emulator)
    }

    /// A transport to an emulator already served in process (several clients, one router).
    package init(_ server: InProcessEmulator) {
        self.server = server
    }

    package func send(_ request: TransportRequest) async throws(TransportError) -> TransportResponse {
        if Task.isCancelled { throw .cancelled }
        // The server's work is a task of its own: a client that gives up (its deadline, or
        // cancelled) does not stop a request the server is processing, as over a socket.
        let server = self.server
        let first = First<Outcome>()
        let outcome = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                first.wait(continuation)
                let timer = Task {
                    try await Task.sleep(for: request.timeout)
                    first.settle(.timedOut)
                }
                // (On the client's executor: a simulation's one thread, when it has one.)
                Task.inheriting {
                    let reply = await server.respond(
                        method: request.method, target: Self.target(of: request.url), headers: request.headers,
                        body: request.body ?? [])
                    timer.cancel()
                    first.settle(.answered(reply))
                }
            }
        } onCancel: {
            first.settle(.cancelled)
        }
        switch outcome {
        case .answered(let reply?):
            return TransportResponse(status: reply.status, headers: reply.headers, body: reply.body)
        case .answered(nil):
            throw .connectionLost("the emulator reset the connection")
        case .timedOut:
            throw .timedOut("no answer within \(request.timeout)")
        case .cancelled:
            throw .cancelled
        }
    }

    enum Outcome: Sendable {
        case answered(InProcessEmulator.Reply?)
        case timedOut
        case cancelled
    }

    package func shutdown() async throws {}

    /// `http://host:port/v3/licenses?page=2` → `/v3/licenses?page=2`.
    package static func target(of url: String) -> String {
        guard let scheme = url.range(of: "://") else { return url }
        let rest = url[scheme.upperBound...]
        guard let slash = rest.firstIndex(of: "/") else { return "/" }
        return String(rest[slash...])
    }
}

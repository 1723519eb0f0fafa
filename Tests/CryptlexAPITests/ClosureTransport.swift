import CryptlexAPI
import CryptlexModels

/// A transport that calls a closure: for unit tests of the client's parsing and classification.
struct ClosureTransport: HTTPTransport {
    let handler: @Sendable (TransportRequest) async throws(TransportError) -> TransportResponse

    init(_ handler: @escaping @Sendable (TransportRequest) async throws(TransportError) -> TransportResponse) {
        self.handler = handler
    }

    func send(_ request: TransportRequest) async throws(TransportError) -> TransportResponse {
        try await handler(request)
    }

    func shutdown() async throws {}
}

import CryptlexAPI
import CryptlexEmulator
import EmulatorTransport
import Testing

/// The transport the engine's tests run on: what a socket would report, it reports.
@Suite("The in-process transport")
struct InProcessTransportTests {
    func request(_ method: String, _ path: String, body: String? = nil, timeout: Duration = .seconds(30))
        -> TransportRequest
    {
        TransportRequest(
            method: method, url: "http://emulator.invalid:8080\(path)",
            headers: [("Authorization", "Bearer t"), ("Content-Type", "application/json")],
            body: body.map { Array($0.utf8) }, timeout: timeout)
    }

    @Test func aLostAnswerIsALostConnectionAndTheLicenseExists() async throws {
        let emulator = try CryptlexEmulator(
            configuration: .init(
                token: "t", products: ["p"], rateLimit: nil,
                faults: FaultSettings(rules: [FaultRule(fault: .lostResponse, count: 1)])))
        let transport = InProcessTransport(emulator)
        await #expect(throws: TransportError.connectionLost("the emulator reset the connection")) {
            try await transport.send(request("POST", "/v3/licenses", body: #"{"productId":"p"}"#))
        }
        #expect(await emulator.store.allLicenses().count == 1)
        let answer = try await transport.send(request("GET", "/v3/products/p"))
        #expect(answer.status == 200)
    }

    /// A request the server holds past the client's deadline times out; the server still has it
    /// (a hold drops it unprocessed once the settings change, as a server that went away would).
    @Test func aHeldRequestTimesOutOnTheClientsDeadline() async throws {
        let emulator = try CryptlexEmulator(
            configuration: .init(
                token: "t", products: ["p"], rateLimit: nil,
                faults: FaultSettings(hold: FaultHold(after: 0, seconds: 60))))
        let transport = InProcessTransport(emulator)
        await #expect(throws: TransportError.timedOut("no answer within 0.05 seconds")) {
            try await transport.send(request("GET", "/v3/products/p", timeout: .milliseconds(50)))
        }
        await emulator.faults.replace(with: FaultSettings())
        #expect(try await transport.send(request("GET", "/v3/products/p")).status == 200)
    }

    @Test func theTargetIsThePathAndQuery() {
        #expect(InProcessTransport.target(of: "https://api.cryptlex.com/v3/licenses?page=2") == "/v3/licenses?page=2")
        #expect(InProcessTransport.target(of: "http://h:1") == "/")
    }
}

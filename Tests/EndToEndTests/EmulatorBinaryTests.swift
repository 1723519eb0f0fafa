import Foundation
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

@Suite("cryptlex-emulator, run as a built binary")
struct EmulatorBinaryTests {
    @Test func itAnnouncesItsPortAndServesTheAPI() async throws {
        // EmulatorProcess reads the first stdout line, which must name the URL.
        let emulator = try EmulatorProcess(["--product", "p1"])
        #expect(emulator.url.hasPrefix("http://127.0.0.1:"))
        let url = try #require(URL(string: emulator.url))
        #expect((url.port ?? 0) > 0)

        var request = URLRequest(url: url.appendingPathComponent("v3/licenses"))
        request.httpMethod = "POST"
        request.setValue("Bearer e2e-token", forHTTPHeaderField: "Authorization")
        request.httpBody = Data(#"{"productId":"p1","allowedActivations":2}"#.utf8)
        let (body, response) = try await URLSession.shared.data(for: request)
        #expect((response as? HTTPURLResponse)?.statusCode == 201)
        #expect(String(decoding: body, as: UTF8.self).contains(#""allowedActivations":2"#))
    }
}

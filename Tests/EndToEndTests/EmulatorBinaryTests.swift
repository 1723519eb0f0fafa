import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

@Suite("cryptlex-emulator, run as a built binary")
struct EmulatorBinaryTests {
    @Test func itAnnouncesItsPortAndServesTheAPI() async throws {
        let process = Process()
        process.executableURL = BuiltBinaries.directory.appendingPathComponent("cryptlex-emulator")
        process.arguments = ["--port", "0", "--token", "e2e-token", "--product", "p1"]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { process.terminate(); process.waitUntilExit() }

        // The first stdout line names the URL.
        var buffer = Data()
        while !buffer.contains(UInt8(ascii: "\n")) {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            buffer.append(chunk)
        }
        let line = String(decoding: buffer, as: UTF8.self).split(separator: "\n").first.map(String.init) ?? ""
        #expect(line.hasPrefix("listening on http://127.0.0.1:"))
        let url = try #require(URL(string: String(line.dropFirst("listening on ".count))))
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

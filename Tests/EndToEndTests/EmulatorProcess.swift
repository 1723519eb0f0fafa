import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A `cryptlex-emulator` process on a free port, stopped when the value is released.
final class EmulatorProcess {
    let process = Process()
    let url: String

    init(_ arguments: [String] = []) throws {
        process.executableURL = BuiltBinaries.directory.appendingPathComponent("cryptlex-emulator")
        process.arguments = ["--port", "0", "--token", "e2e-token", "--log-level", "error"] + arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        var buffer = Data()
        while !buffer.contains(UInt8(ascii: "\n")) {
            let chunk = readSome(out.fileHandleForReading)
            if chunk.isEmpty { break }
            buffer.append(chunk)
        }
        let line = String(decoding: buffer, as: UTF8.self).split(separator: "\n").first.map(String.init) ?? ""
        url = String(line.dropFirst("listening on ".count))
    }

    deinit {
        process.terminate()
        process.waitUntilExit()
    }

    /// `GET /__admin/<path>` as JSON.
    func admin(_ path: String) async throws -> Any {
        let (data, _) = try await URLSession.shared.data(from: URL(string: url + "/__admin/" + path)!)
        return try JSONSerialization.jsonObject(with: data)
    }

    func counter(_ name: String) async throws -> Int {
        (try await admin("counters") as? [String: Any])?[name] as? Int ?? -1
    }

    /// How many faults of a kind (`"hold"`, `"reset"`, …) the emulator has injected.
    func faultCount(_ kind: String) async throws -> Int {
        ((try await admin("counters") as? [String: Any])?["faults"] as? [String: Any])?[kind] as? Int ?? 0
    }

    /// The marker value of every license the emulator holds.
    func markers() async throws -> [String] {
        let licenses = try await admin("licenses") as? [[String: Any]] ?? []
        return licenses.compactMap { license in
            (license["metadata"] as? [[String: Any]])?.first { $0["key"] as? String == "licprov_request" }?["value"]
                as? String
        }
    }

    func keys() async throws -> Set<String> {
        Set((try await admin("licenses") as? [[String: Any]] ?? []).compactMap { $0["key"] as? String })
    }
}

/// A scratch folder for one test.
struct Scratch {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("licprov-e2e-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func write(_ name: String, _ text: String) throws -> String {
        let file = path + "/" + name
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        return file
    }

    func read(_ name: String) throws -> String {
        try String(contentsOfFile: path + "/" + name, encoding: .utf8)
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// `count` rows with order ids, for product prod-1.
func orderFile(_ count: Int, from first: Int = 1) -> String {
    "order_id,productId,allowedActivations\n" + (first..<first + count).map { "E-\($0),prod-1,2\n" }.joined()
}

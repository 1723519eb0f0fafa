import Foundation

/// One scratch folder per test process, under the system's temporary folder, removed when the
/// process exits: tests that make temporary files leave nothing behind, even the ones that do not
/// clean up after themselves (a failing expectation, a helper that returns a path).
public enum ScratchRoot {
    public static let path: String = {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent(
            "licprov-tests-\(getpid())-\(UUID().uuidString.prefix(8))"
        ).path
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(atPath: ScratchRoot.path) }
        return path
    }()

    /// A new, empty folder inside the root, its name starting with `prefix`.
    public static func directory(_ prefix: String) throws -> URL {
        let url = URL(fileURLWithPath: path).appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

import Foundation
import Testing

/// Runs the built executables as a user would, with their real stdout, stderr and exit code.
enum BuiltBinaries {
    /// The folder with the built products: beside the test bundle, or `LICPROV_BIN_DIR`.
    static let directory: URL = {
        if let override = ProcessInfo.processInfo.environment["LICPROV_BIN_DIR"] {
            return URL(fileURLWithPath: override)
        }
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.isExecutableFile(atPath: url.appendingPathComponent("licprov").path) { return url }
        }
        return URL(fileURLWithPath: ".build/debug")
    }()

    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    struct Outcome {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs `name` with `arguments` to completion.
    static func run(_ name: String, _ arguments: [String], stdin: Data? = nil, environment: [String: String] = [:])
        throws -> Outcome
    {
        try runTool(directory.appendingPathComponent(name).path, arguments, stdin: stdin, environment: environment)
    }

    /// ``run(_:_:stdin:environment:)`` on a thread of its own: a long run waited for on the
    /// cooperative pool (two threads on two cores) would stall every other test meanwhile.
    static func runOffPool(
        _ name: String, _ arguments: [String], stdin: Data? = nil, environment: [String: String] = [:]
    ) async throws -> Outcome {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Outcome, any Error>) in
            Thread {
                continuation.resume(with: Result { try run(name, arguments, stdin: stdin, environment: environment) })
            }.start()
        }
    }

    /// Starts `name` with `arguments` in the background, its output discarded (for runs a test stops).
    static func start(_ name: String, _ arguments: [String], environment: [String: String] = [:]) throws -> Process {
        let process = Process()
        process.executableURL = directory.appendingPathComponent(name)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// Runs the program at `path` to completion.
    static func runTool(_ path: String, _ arguments: [String], stdin: Data? = nil, environment: [String: String] = [:])
        throws -> Outcome
    {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.currentDirectoryURL = packageRoot
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let out = Pipe()
        let err = Pipe()
        let input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        // Both streams are drained at once: reading one to its end first would deadlock a child
        // that fills the other's pipe (64 KiB) meanwhile.
        let stderrBox = DataBox()
        let drained = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            stderrBox.data = readToEnd(err.fileHandleForReading)
            drained.signal()
        }
        if let stdin { writeAll(stdin, to: input.fileHandleForWriting) }
        try input.fileHandleForWriting.close()
        let stdoutData = readToEnd(out.fileHandleForReading)
        drained.wait()
        let stderrData = stderrBox.data
        process.waitUntilExit()
        return Outcome(
            status: process.terminationStatus, stdout: String(decoding: stdoutData, as: UTF8.self),
            stderr: String(decoding: stderrData, as: UTF8.self))
    }
}

/// Everything `handle` gives until its end. Foundation's `readDataToEndOfFile()` and
/// `availableData` trap when a signal interrupts their `read(2)` (EINTR: the test process handles
/// SIGCHLD for the children it starts; CI met it once); these reads are retried instead.
func readToEnd(_ handle: FileHandle) -> Data {
    var data = Data()
    while true {
        let chunk = readSome(handle)
        if chunk.isEmpty { return data }
        data.append(chunk)
    }
}

/// What one `read(2)` of `handle` gives (empty at its end), retried when a signal interrupts it.
func readSome(_ handle: FileHandle) -> Data {
    var buffer = [UInt8](repeating: 0, count: 65_536)
    while true {
        let count = buffer.withUnsafeMutableBytes { read(handle.fileDescriptor, $0.baseAddress, $0.count) }
        if count < 0 && errno == EINTR { continue }
        return count <= 0 ? Data() : Data(buffer[0..<count])
    }
}

/// Writes all of `data` to `handle`, retrying a `write(2)` a signal interrupts (as ``readSome(_:)``).
func writeAll(_ data: Data, to handle: FileHandle) {
    var offset = 0
    let bytes = [UInt8](data)
    while offset < bytes.count {
        let count = bytes[offset...].withUnsafeBytes { write(handle.fileDescriptor, $0.baseAddress, $0.count) }
        if count < 0 && errno == EINTR { continue }
        if count <= 0 { return }
        offset += count
    }
}

/// Bytes handed from the thread that drained a pipe to the one that waited for it (the semaphore
/// orders the write before the read).
final class DataBox: @unchecked Sendable {
    var data = Data()
}

import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The two streams: stdout for results, stderr for progress, logs and errors.
///
/// Writes never stop a run. `licprov run … | head -1` closes stdout early, `2>/dev/full` or a log
/// file on a full disk fails every write to stderr: Foundation's `FileHandle.write` traps on both
/// (EPIPE, ENOSPC), and SIGPIPE would kill the process. licprov ignores SIGPIPE
/// (``ProcessSetup``), writes with `write(2)`, and after the first failed write stops writing to
/// that stream; the journal and the results file are not affected, and the exit status is the
/// run's own.
enum Output {
    static func result(_ line: String) {
        StandardStream.output.write(Array((line + "\n").utf8))
    }

    static func error(_ line: String, newline: Bool = true) {
        StandardStream.error.write(Array(("licprov: " + line + (newline ? "\n" : "")).utf8))
    }

    /// Bytes as they are, on stdout (a CSV).
    static func resultBytes(_ bytes: [UInt8]) {
        StandardStream.output.write(bytes)
    }

    /// One JSON object on stdout (keys sorted), the result of a `--json` command.
    static func resultJSON(_ object: [String: Any]) {
        if let data = try? JSONSerialization.data(
            withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        {
            result(String(decoding: data, as: UTF8.self))
        }
    }

    /// One JSON object on stderr (keys sorted): progress for other programs.
    static func errorJSON(_ object: [String: Any]) {
        if let data = try? JSONSerialization.data(
            withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        {
            error(String(decoding: data, as: UTF8.self))
        }
    }

    /// Text for the operator that is not the result (a plan shown before a `--json` summary), as is.
    static func errorBytes(_ bytes: [UInt8]) {
        StandardStream.error.write(bytes)
    }
}

/// stdout or stderr, written with `write(2)`; a stream whose write failed is written no more.
final class StandardStream: Sendable {
    static let output = StandardStream(descriptor: STDOUT_FILENO)
    static let error = StandardStream(descriptor: STDERR_FILENO)

    let descriptor: Int32
    private let broken = Atomic<Bool>(false)

    private init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    /// Whether a write failed (the reader went away, the disk is full): nothing more is written.
    var isBroken: Bool { broken.load(ordering: .relaxed) }

    func write(_ bytes: [UInt8]) {
        guard !isBroken else { return }
        bytes.withUnsafeBytes { buffer in
            guard let base = buffer.baseAddress else { return }
            var offset = 0
            while offset < buffer.count {
                #if canImport(Glibc)
                    let written = Glibc.write(descriptor, base + offset, buffer.count - offset)
                #else
                    let written = Darwin.write(descriptor, base + offset, buffer.count - offset)
                #endif
                if written > 0 {
                    offset += written
                    continue
                }
                if written < 0 && errno == EINTR { continue }
                broken.store(true, ordering: .relaxed)
                return
            }
        }
    }

    func write(_ data: Data) { write([UInt8](data)) }
}

/// What the process sets up before any command runs.
enum ProcessSetup {
    static func apply() {
        // Every file licprov creates — journal, -wal, -shm, lock, results and their temporary
        // files — is private from its first byte, whatever the umask it was started with.
        umask(0o077)
        // A closed stdout or stderr is a failed write (handled by StandardStream), not a death.
        signal(SIGPIPE, SIG_IGN)
    }
}

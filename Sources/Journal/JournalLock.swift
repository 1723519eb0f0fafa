import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Keeps a second process from running the same journal: an exclusive `flock` on `JOURNAL.lock`,
/// holding the owner's PID. The kernel drops the lock when the process ends, however it ends
/// (kill -9 included), so a stale lock never blocks a resume.
package final class JournalLock: Sendable {
    package let path: String
    private let descriptor: Int32

    /// Another process holds the journal.
    package struct Held: Error, LocalizedError, Sendable {
        package var journal: String
        package var pid: Int32?
        package var errorDescription: String? {
            "the journal \(journal) is in use by another licprov (\(pid.map { "PID \($0)" } ?? "an unknown process")); "
                + "wait for it to finish, or stop it first"
        }
    }

    /// Takes the lock of the journal at `journalPath`, or throws ``Held`` at once.
    package init(journalPath: String) throws {
        path = journalPath + ".lock"
        descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw JournalError(
                path: journalPath, operation: "create its lock file \(path)",
                POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO))
        }
        // A lock released a moment ago may still be held for a few milliseconds: by a child process
        // forked at that instant (it holds a copy of the descriptor until its exec closes it), or
        // by the last run in this process while its objects go. Waited for up to a second (a
        // full suite, spawning processes beside in-process runs, met it); a running licprov is
        // still refused, a second later.
        var locked = flock(descriptor, LOCK_EX | LOCK_NB) == 0
        var tries = 0
        while !locked, errno == EWOULDBLOCK || errno == EINTR, tries < 100 {
            tries += 1
            usleep(10_000)
            locked = flock(descriptor, LOCK_EX | LOCK_NB) == 0
        }
        guard locked else {
            var buffer = [UInt8](repeating: 0, count: 32)
            let count = pread(descriptor, &buffer, buffer.count, 0)
            close(descriptor)
            let text = count > 0 ? String(decoding: buffer[..<count], as: UTF8.self) : ""
            throw Held(journal: journalPath, pid: Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)))
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(descriptor, 0)
        _ = pid.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) }
    }

    deinit {
        close(descriptor)
    }
}

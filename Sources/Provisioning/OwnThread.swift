import Foundation
import Scheduling

/// Runs blocking work — reading a file, SQLite, `fsync` — on a thread of its own, so it never
/// holds one of Swift concurrency's cooperative threads (two on this kind of machine) while the
/// signal handling, progress and network code need them. (Under a task executor preference — a
/// simulation's one thread — the work is done in place: see `PreferredExecutor`.)
enum OwnThread {
    static func run<T: Sendable>(_ name: String, _ body: @escaping @Sendable () throws -> T) async throws -> T {
        if PreferredExecutor.isSet { return try body() }
        return try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                continuation.resume(with: Result { try body() })
            }
            thread.name = "licprov.\(name)"
            // The readers recurse over nested JSON: give them the stack a main thread has.
            thread.stackSize = 8 << 20
            thread.start()
        }
    }
}

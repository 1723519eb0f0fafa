import CryptlexAPI
import CryptlexEmulator
import EmulatorTransport
import Foundation
import GRDB
import Provisioning
import Scheduling
import Synchronization

/// The network as one licprov process sees it: every request goes to the in-process emulator and
/// into the schedule's trace, until the process is killed at its drawn request. Then the journal
/// is copied as the kill leaves it — what SQLite had committed, nothing in flight — for the next
/// process, and every request after it fails unsent, as a dead process sends nothing.
///
/// The kill lands where the seed says, whatever the machine's speed: the killing request and any
/// other the process starts are held until the run's own-time writers (``JournalWriters``: the
/// group committer, the work feed's loader) are idle, and the journal is copied then. So the
/// journal the next process opens is the same on every replay: every outcome the process had
/// recorded before the kill, the feed's read-ahead marked in flight, nothing of the killing
/// request's answer.
final class SimulatedProcess: HTTPTransport {
    /// The live process's network: the in-process transport (resets, deadlines) to the schedule's emulator.
    private let network: InProcessTransport
    private let crash: Schedule.Crash?
    private let journalPath: String
    private let nextJournalPath: String
    private let trace: Trace
    private let process: Int
    /// From this request on, the account's owner has revoked the process's token.
    private let revokeTokenAt: Int?
    /// The run's committer and feed loader, which the kill waits for.
    private let writers: JournalWriters
    /// Another client of the account, acting as licprov's requests reach the server.
    private let another: AnotherClient?
    /// Answers that come after the client's deadline.
    private let slow: SlowNetwork?
    /// The schedule's time: what a `Retry-After` is counted on.
    private let clock: RunClock
    private struct State {
        var sent = 0
        var killed = false
        /// The journal was copied: requests held since the kill may fail now.
        var copied = false
        var held: [CheckedContinuation<Void, Never>] = []
        var writes = 0
        /// A 401 came back; the requests the process started after it.
        var rejected = false
        var sentAfterRejection = 0
        /// Until when each request a 429 or 503 answered may not come again (`Retry-After`), and
        /// the requests that came sooner.
        var pauses: [String: RunClock.Instant] = [:]
        var early = 0
    }
    private let state = Mutex(State())
    /// Called once, when the process is killed (the simulator stops its tasks).
    let onKill: @Sendable () -> Void

    init(
        process: Int, server: InProcessEmulator, crash: Schedule.Crash?, journalPath: String, nextJournalPath: String,
        trace: Trace, writers: JournalWriters, another: AnotherClient? = nil, slow: SlowNetwork? = nil,
        clock: RunClock = .continuous, revokeTokenAt: Int? = nil, onKill: @escaping @Sendable () -> Void
    ) {
        self.process = process
        self.clock = clock
        self.writers = writers
        self.another = another
        self.slow = slow
        self.revokeTokenAt = revokeTokenAt
        self.network = InProcessTransport(server)
        self.crash = crash
        self.journalPath = journalPath
        self.nextJournalPath = nextJournalPath
        self.trace = trace
        self.onKill = onKill
    }

    var wasKilled: Bool { state.withLock { $0.killed } }
    /// Requests other than GET that reached the server.
    var writes: Int { state.withLock { $0.writes } }
    /// Whether the server refused the token, and the requests started after it did.
    var tokenRejected: (Bool, sentAfter: Int) { state.withLock { ($0.rejected, $0.sentAfterRejection) } }
    /// Requests sent again before the `Retry-After` of the 429 or 503 that answered them had passed.
    var early: Int { state.withLock { $0.early } }

    func send(_ request: TransportRequest) async throws(TransportError) -> TransportResponse {
        enum Step {
            case dead, kill
            case send(isLast: Bool)
        }
        var request = request
        let now = clock.now
        // (Before the token is rewritten: the same request, as the client sends it.)
        let identity =
            "\(request.method) \(request.url) \(request.body.map { String(decoding: $0, as: UTF8.self) } ?? "")"
        var early = ""
        let step = state.withLock { state -> Step in
            if state.killed { return .dead }
            state.sent += 1
            if let until = state.pauses[identity], now < until {
                state.early += 1
                early = " (sent again before its Retry-After had passed)"
            }
            if state.rejected { state.sentAfterRejection += 1 }
            if let revokeTokenAt, state.sent >= revokeTokenAt {
                request.headers = request.headers.map {
                    $0.0.lowercased() == "authorization" ? ($0.0, "Bearer revoked-by-the-owner") : $0
                }
            }
            guard let crash, state.sent == crash.atRequest else { return .send(isLast: false) }
            state.killed = true
            return crash.afterProcessing ? .send(isLast: true) : .kill
        }
        let target = InProcessTransport.target(of: request.url)
        switch step {
        case .dead:
            await untilCopied()
            throw .connectFailed("the process was killed")
        case .kill:
            trace.record("\(process) \(request.method) \(target) KILLED before the server", entries: journalMarkers)
            await kill()
            throw .connectFailed("the process was killed")
        case .send(let isLast):
            if request.method != "GET" { state.withLock { $0.writes += 1 } }
            // (The request a kill follows is not slow: the kill decides what becomes of it.)
            let late = !isLast && slow?.answersLate() == true
            if let line = await another?.before(request) { trace.record(line) }
            let answer: Result<TransportResponse, TransportError>
            do { answer = .success(try await network.send(request)) } catch { answer = .failure(error) }
            let shown =
                switch answer {
                case .success(let response): String(response.status)
                case .failure(.connectionLost): "reset"
                case .failure(let error): error.detail
                }
            if late, case .success = answer {
                trace.record(
                    "\(process) \(request.method) \(target) \(shown) after the deadline\(early)",
                    entries: journalMarkers)
                throw .timedOut("the answer came after the request's deadline")
            }
            trace.record("\(process) \(request.method) \(target) \(shown)\(early)", entries: journalMarkers)
            // (A refusal that came after the deadline refused nothing the client saw.)
            if case .success(let response) = answer, response.status == 401 {
                state.withLock { $0.rejected = true }
            }
            // What the client was told to wait (an answer that came too late told it nothing). A
            // pause holds every worker too, but what another worker had already started may go:
            // that is not told apart here (the executor's tests pin it, on a manual clock).
            if case .success(let response) = answer, [429, 503].contains(response.status),
                let seconds = response.headers.first(where: { $0.0.lowercased() == "retry-after" }).flatMap({
                    Int($0.1)
                }),
                seconds > 0
            {
                let until = clock.now.advanced(by: .seconds(seconds))
                state.withLock { $0.pauses[identity] = until }
            }
            if isLast {
                trace.record("\(process) KILLED after the server")
                await kill()
                throw .connectFailed("the process was killed")
            }
            return try answer.get()
        }
    }

    func shutdown() async throws {}

    /// Each marker of the journal as `#ROW/UNIT`.
    private func journalMarkers() -> [String: String] {
        var configuration = Configuration()
        configuration.readonly = true
        guard let journal = try? DatabaseQueue(path: journalPath, configuration: configuration) else { return [:] }
        defer { try? journal.close() }
        let rows = (try? journal.read { try Row.fetchAll($0, sql: "SELECT marker, rowID, unit FROM license") }) ?? []
        return Dictionary(
            rows.map {
                (($0["marker"] as String?) ?? "", "#\($0["rowID"] as String? ?? "")/\($0["unit"] as Int? ?? 0)")
            },
            uniquingKeysWith: { first, _ in first })
    }

    /// Waits until the kill's copy of the journal is taken (a request started after the kill).
    private func untilCopied() async {
        await withCheckedContinuation { continuation in
            let copied = state.withLock { state in
                if !state.copied { state.held.append(continuation) }
                return state.copied
            }
            if copied { continuation.resume() }
        }
    }

    /// What the journal holds once the run's own-time writers are idle (SQLite's backup reads the
    /// last committed state: with `synchronous = FULL`, exactly what survives a kill), copied for
    /// the next process; then the requests held meanwhile fail.
    private func kill() async {
        if !(await writers.waitUntilIdle()) { trace.record("the journal's writers did not go idle") }
        do {
            try? FileManager.default.removeItem(atPath: nextJournalPath)
            if FileManager.default.fileExists(atPath: journalPath) {
                let source = try DatabaseQueue(path: journalPath)
                let copy = try DatabaseQueue(path: nextJournalPath)
                try source.backup(to: copy)
                try source.close()
                try copy.close()
            }
        } catch {
            trace.record("journal copy failed: \(error)")
        }
        let held = state.withLock { state in
            state.copied = true
            defer { state.held = [] }
            return state.held
        }
        for request in held { request.resume() }
        onKill()
    }
}

/// The requests of a schedule in order, and their digest.
///
/// Markers are random (a journal's prefix, then a version-7 UUID of the time and random bits):
/// each is written as the journal entry it belongs to (`#O-3/1`, the first license of row O-3),
/// a journal's prefix alone as `lp-JOURNAL-`, so the same schedule gives the same lines.
final class Trace: Sendable {
    private struct State {
        var lines: [String] = []
        var markers: [String: String] = [:]
        var times: [String: String] = [:]
    }
    private let state = Mutex(State())

    /// Records `line`; `entries` reads the journal's markers when a line names one not met yet.
    func record(_ line: String, entries: () -> [String: String] = { [:] }) {
        var text = line
        var known = state.withLock { $0.markers }
        if text.contains(Self.marker),
            text.matches(of: Self.marker).contains(where: { known[String($0.output)] == nil })
        {
            known.merge(entries()) { old, _ in old }
            state.withLock { $0.markers = known }
        }
        while let found = text.firstMatch(of: Self.marker) {
            text.replaceSubrange(found.range, with: known[String(found.output)] ?? "#unknown")
        }
        // A journal's marker prefix alone (the audit lists by it): the same in every run.
        text.replace(Self.prefix, with: "lp-JOURNAL-")
        state.withLock { state in
            // The emulator's clock is the wall clock: a time it gave (a license's `updatedAt`, which a
            // sync update's row id carries) is written as the how-manieth time the trace met.
            while let found = text.firstMatch(of: Self.time) {
                let time = String(found.output)
                let name = state.times[time] ?? "TIME-\(state.times.count + 1)"
                state.times[time] = name
                text.replaceSubrange(found.range, with: name)
            }
            state.lines.append(text)
        }
    }

    var all: [String] { state.withLock { $0.lines } }

    /// A version-7 UUID, after `lp-` and 12 hex digits (a create's) or alone (a change's). The
    /// emulator's ids are version 4: they stay as they are (the emulator draws them from the seed).
    nonisolated(unsafe) static let marker =
        /(?:lp-[0-9a-f]{12}-)?[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}/
    nonisolated(unsafe) static let prefix = /lp-[0-9a-f]{12}-/
    nonisolated(unsafe) static let time = /[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?Z/

    /// FNV-1a (64 bits) of every line: the same schedule, the same digest.
    var digest: String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for line in all {
            for byte in line.utf8 + [10] {
                hash ^= UInt64(byte)
                hash &*= 0x0000_0100_0000_01b3
            }
        }
        return String(hash, radix: 16, uppercase: false)
    }
}

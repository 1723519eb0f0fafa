import Foundation

/// One limiter shared by every worker of a run.
///
/// - Following the server (``WindowLedger``, when `windowLimit` is set and answers carry the
///   window headers): requests fill each of the server's fixed windows, bounded by what was sent
///   and what came back, and the next window's requests go as soon as it has begun.
/// - Otherwise a ``TokenBucket`` at a fixed rate (Cryptlex: 9.6/s), and with few requests left in
///   the server's window, nothing more is sent until it resets (capped at one window: clocks may
///   disagree).
/// - ``pause(for:)`` (a 429's `Retry-After`) holds every request until the pause ends, in both modes.
///
/// Time is injected (`C: Clock`, and the wall clock for the server's window ends), so tests drive
/// it without sleeping.
package actor RateLimiter<C: Clock> where C.Duration == Duration {
    private let clock: C
    private let origin: C.Instant
    private let wallClock: @Sendable () -> Double
    private var bucket: TokenBucket
    private var ledger: WindowLedger?
    private var pausedUntil: Duration = .zero
    /// Bumped by every pause, so a waiter on the bucket knows its slot was taken from it.
    private var epoch = 0
    private var waiters: [UInt64: CheckedContinuation<Void, any Error>] = [:]
    private var nextWaiter: UInt64 = 0
    /// With this many requests or fewer left in the server's window, wait for its reset (fixed-rate mode).
    package let lowWater: Int

    /// - Parameters:
    ///   - rate, burst: the fixed rate, used until answers show the server's windows (and for good
    ///     when they do not, or `windowLimit` is nil).
    ///   - windowLimit: requests per server window (Cryptlex: 50); nil: never follow the windows.
    ///   - wallClock: seconds since 1970, to compare with the server's window ends.
    package init(
        rate: Double, burst: Int, windowLimit: Int? = nil, lowWater: Int = 1, clock: C,
        wallClock: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }
    ) {
        self.clock = clock
        self.origin = clock.now
        self.wallClock = wallClock
        self.bucket = TokenBucket(rate: rate, burst: burst)
        self.ledger = windowLimit.map { WindowLedger(limit: $0) }
        self.lowWater = lowWater
    }

    private var now: Duration { origin.duration(to: clock.now) }

    /// Whether requests follow the server's windows now (for tests and the log).
    package var followsServerWindows: Bool { ledger?.following ?? false }

    /// Waits until this request may be sent; the ticket goes back with ``answered(_:_:)``.
    /// Throws `CancellationError` if cancelled while waiting.
    package func acquire() async throws -> WindowLedger.Ticket? {
        while true {
            try Task.checkCancellation()
            if pausedUntil > now {
                try await wait(until: pausedUntil)
                continue
            }
            if var ledger, ledger.following {
                let decision = ledger.decide(now: now, wall: wallClock())
                switch decision {
                case .go(let probe):
                    let ticket = ledger.record(now: now, probe: probe)
                    self.ledger = ledger
                    return ticket
                case .wait(let until):
                    self.ledger = ledger
                    try await wait(until: until)
                    continue
                }
            }
            // Fixed rate: slots are handed out in call order, so workers never race into a burst.
            let slot = bucket.reserve(now: now, notBefore: pausedUntil)
            let reservedIn = epoch
            if slot > now { try await clock.sleep(until: origin.advanced(by: slot), tolerance: nil) }
            if reservedIn == epoch || pausedUntil <= now { return ledger?.record(now: now, probe: false) }
        }
    }

    /// Takes in what the answer to a request said about the server's window.
    package func answered(_ ticket: WindowLedger.Ticket?, _ report: WindowReport) {
        if let ticket { ledger?.answered(ticket, report, now: now, wall: wallClock()) }
        if !(ledger?.following ?? false), !report.refused, let remaining = report.remaining, remaining <= lowWater,
            let end = report.windowEnd
        {
            // Capped at one window (and a second): the clocks may disagree.
            let window = (report.window ?? .seconds(5)).secondsValue
            let resetsIn = min(max(end.timeIntervalSince1970 - wallClock(), 0), window + 1)
            if resetsIn > 0 { pause(for: Duration(secondsValue: resetsIn)) }
        }
        wakeAll()
    }

    /// Forgets a request that was never sent.
    package func release(_ ticket: WindowLedger.Ticket?) {
        if let ticket { ledger?.release(ticket) }
        wakeAll()
    }

    /// Holds every request for `duration` from now (at least; an existing longer pause stays).
    package func pause(for duration: Duration) {
        let until = now + duration
        guard until > pausedUntil else { return }
        pausedUntil = until
        epoch += 1
    }

    /// Whether requests are being held (for tests).
    var isPaused: Bool { pausedUntil > now }

    /// Sleeps until `deadline` (nil: no deadline), or until an answer or a release wakes every waiter.
    private func wait(until deadline: Duration?) async throws {
        nextWaiter += 1
        let id = nextWaiter
        let timer = deadline.map { deadline in
            Task.inheriting { [clock, origin] in
                try? await clock.sleep(until: origin.advanced(by: deadline), tolerance: nil)
                await self.wake(id)
            }
        }
        defer { timer?.cancel() }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                waiters[id] = continuation
            }
        } onCancel: {
            Task.inheriting { await self.cancelWaiter(id) }
        }
    }

    private func wake(_ id: UInt64) {
        waiters.removeValue(forKey: id)?.resume()
    }

    private func wakeAll() {
        let waking = waiters.values
        waiters.removeAll()
        for waiter in waking { waiter.resume() }
    }

    private func cancelWaiter(_ id: UInt64) {
        waiters.removeValue(forKey: id)?.resume(throwing: CancellationError())
    }
}

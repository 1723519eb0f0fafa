import Foundation

/// What one answer said about the server's rate-limit window (from `X-Rate-Limit-*`; the API
/// module fills it in). All nil: the answer carried none (a lost response, stripped headers).
public struct WindowReport: Sendable, Equatable {
    /// An HTTP answer came back (false: a lost response, a refused connection).
    public var answered: Bool
    /// The answer was a 429.
    public var refused: Bool
    /// Requests left in the window the request was counted in.
    public var remaining: Int?
    /// When that window ends, on the server's clock (`X-Rate-Limit-Reset`).
    public var windowEnd: Date?
    /// The window's length (`X-Rate-Limit-Limit`).
    public var window: Duration?

    public init(answered: Bool = false, refused: Bool = false, remaining: Int? = nil, windowEnd: Date? = nil, window: Duration? = nil) {
        self.answered = answered
        self.refused = refused
        self.remaining = remaining
        self.windowEnd = windowEnd
        self.window = window
    }

    /// Nothing came back.
    public static let none = WindowReport()
}

/// The bookkeeping of a limiter that fills the server's fixed windows instead of sending at a
/// fixed rate: Cryptlex counts `limit` requests per window *on arrival*, and says in every answer
/// how many are left and when the window ends.
///
/// A request may go when no window it could arrive in would hold more than `limit` of them:
///
/// - **Our own requests** (clock-free): a request answered at local time `a` arrived by `a`, so it
///   shares no window with one sent `window` later; a request still in flight counts until answered.
///   A request the server answered with a window end `E` arrived in window `E`; once an answer
///   reports a later window, or once `window` has passed since the first answer from window `E`
///   (it arrived at or after `E − window`), window `E` is over and its requests stop counting.
/// - **The server's count** for the newest window (`limit − remaining`, fewest remaining seen)
///   plus our requests whose window is not known yet: covers another client sharing the IP and
///   requests sent before this run.
/// - **The end of a full window, by the clock**: when our wall clock says the newest window ended
///   (plus ``clockGuard``), one request goes as a *probe*; its answer shows the new window, and the
///   rest follow at once. A probe answered from the old window, or refused, shows the clocks
///   disagree: probes stop for the run and the clock-free rules alone decide.
///
/// No latency margin is guessed: arrivals are bounded by what was sent and what came back. Pure
/// arithmetic on two time scales — the limiter's monotonic one (``Duration`` since its origin) and
/// the server's wall clock (seconds since 1970) — so it is tested by simulation, without sleeping.
public struct WindowLedger: Sendable {
    /// One request the ledger let go.
    public struct Ticket: Sendable, Hashable {
        let id: UInt64
    }

    public enum Decision: Sendable, Equatable {
        /// Send now (a probe: the window is full by count but over by the clock).
        case go(probe: Bool)
        /// Nothing can go before `until` (nil: before an answer comes back).
        case wait(until: Duration?)
    }

    struct Send {
        let ticket: Ticket
        let sentAt: Duration
        var answeredAt: Duration?
        /// The server's window end for this request, once answered with headers.
        var windowEnd: Double?
    }

    /// Requests per window (Cryptlex: 50).
    public let limit: Int
    /// The window's length; the server's `X-Rate-Limit-Limit` replaces it.
    public private(set) var window: Duration
    /// How long after the newest window's end, by our clock, a probe may go.
    public let clockGuard: Duration
    /// An answer carried plausible window headers: the ledger decides (else the limiter's fixed rate does).
    public private(set) var following = false
    /// Probes are allowed (the clocks have not been caught disagreeing).
    public private(set) var clockTrusted = true

    private var sends: [Send] = []
    private var nextID: UInt64 = 0
    /// The newest window: its end (server clock), the fewest requests it said were left, and the
    /// earliest local time one of its requests was answered.
    private var newest: (end: Double, remaining: Int, firstAnswer: Duration)?
    /// Windows up to this end are over.
    private var overUpTo: Double = -.infinity
    /// The probe in flight and the window end it was sent after.
    private var probe: (ticket: Ticket, after: Double)?

    public init(limit: Int, window: Duration = .seconds(5), clockGuard: Duration = .milliseconds(100)) {
        precondition(limit >= 1, "a window holds at least one request")
        self.limit = limit
        self.window = window
        self.clockGuard = clockGuard
    }

    /// Whether a request may go at `now` (monotonic) when the wall clock reads `wall`.
    public mutating func decide(now: Duration, wall: Double) -> Decision {
        prune(now: now)
        if used(now: now) < limit { return .go(probe: false) }
        let probeAt = probeTime(now: now, wall: wall)
        if let probeAt, probeAt <= now { return .go(probe: true) }
        var next = probeAt
        func consider(_ time: Duration) { next = min(next ?? time, time) }
        for send in sends where counts(send, now: now) {
            if let answeredAt = send.answeredAt { consider(answeredAt + window) }
        }
        if let newest { consider(newest.firstAnswer + window) }
        return .wait(until: next)
    }

    /// Records a request sent at `now`.
    public mutating func record(now: Duration, probe isProbe: Bool) -> Ticket {
        nextID += 1
        let ticket = Ticket(id: nextID)
        sends.append(Send(ticket: ticket, sentAt: now))
        if isProbe, let newest { probe = (ticket, newest.end) }
        return ticket
    }

    /// Forgets a request that was never sent.
    public mutating func release(_ ticket: Ticket) {
        sends.removeAll { $0.ticket == ticket }
        if probe?.ticket == ticket { probe = nil }
    }

    /// Takes in what the answer to `ticket` said, at `now` (monotonic) and `wall`.
    public mutating func answered(_ ticket: Ticket, _ report: WindowReport, now: Duration, wall: Double) {
        let probedAfter = probe?.ticket == ticket ? probe?.after : nil
        if probedAfter != nil { probe = nil }
        if let length = report.window, length > .zero { window = length }
        guard let index = sends.firstIndex(where: { $0.ticket == ticket }) else { return }
        sends[index].answeredAt = now
        if report.refused {
            // The probe arrived before the window's end: our clock runs ahead of the server's.
            if probedAfter != nil { clockTrusted = false }
            return
        }
        guard let remaining = report.remaining, let end = report.windowEnd?.timeIntervalSince1970 else {
            // An HTTP answer without the headers: they are not sent (or stripped on the way).
            if report.answered { following = false }
            return
        }
        sends[index].windowEnd = end
        following = true
        let ahead = end - wall
        if ahead < -window.secondsValue - 1 || ahead > window.secondsValue + 1 { clockTrusted = false }
        // A probe counted in the window it was sent after: the clocks disagree.
        if let probedAfter, end <= probedAfter { clockTrusted = false }
        if end <= overUpTo {
            sends.remove(at: index)
            return
        }
        if let current = newest, end <= current.end {
            if end == current.end {
                newest = (end, min(current.remaining, remaining), min(current.firstAnswer, now))
            }
            return
        }
        // A newer window: every request answered from an older one is behind us.
        if let current = newest { closeWindows(upTo: current.end) }
        newest = (end, remaining, now)
    }

    /// Requests that could share a window with one sent at `now`: ours, or the server's count.
    func used(now: Duration) -> Int {
        let ours = sends.count { counts($0, now: now) }
        guard let newest else { return ours }
        let unplaced = sends.count { $0.windowEnd == nil && counts($0, now: now) }
        return max(ours, limit - newest.remaining + unplaced)
    }

    /// When the wall clock says the newest window is over: the time a probe may go (nil: no probe).
    private func probeTime(now: Duration, wall: Double) -> Duration? {
        guard clockTrusted, probe == nil, let newest else { return nil }
        let wait = newest.end + clockGuard.secondsValue - wall
        return wait <= 0 ? now : now + Duration(secondsValue: wait)
    }

    private func counts(_ send: Send, now: Duration) -> Bool {
        // In flight: it may arrive any time. Answered: it arrived by then.
        send.answeredAt.map { $0 + window > now } ?? true
    }

    private mutating func prune(now: Duration) {
        if let current = newest, now >= current.firstAnswer + window {
            // One of its requests arrived at or after its start and was answered by firstAnswer.
            closeWindows(upTo: current.end)
            newest = nil
        }
        // A request can be in flight no longer than a request timeout; two minutes is beyond any.
        sends.removeAll { send in send.answeredAt.map { $0 + window <= now } ?? (send.sentAt + .seconds(120) <= now) }
    }

    private mutating func closeWindows(upTo end: Double) {
        overUpTo = max(overUpTo, end)
        sends.removeAll { $0.windowEnd.map { $0 <= end } ?? false }
    }
}

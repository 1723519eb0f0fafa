/// The bookkeeping of a limiter that fills the server's fixed windows instead of sending at a
/// fixed rate: the server counts `limit` requests per window *on arrival*, and says in every answer
/// how many are left (`remaining`: the request was the server's `count = limit − remaining`-th of
/// its window) and when the window ends. A state machine over two ways of knowing where a window
/// ends, kept in one file because each rule leans on the others.
///
/// Honest servers count "50 per 5 s, fixed windows" differently: windows on the wall clock's
/// grid; a window that starts with the first request after the last one expired; or counted from
/// the first request while `X-Rate-Limit-Reset` reports the grid's end (AspNetCoreRateLimit's Redis
/// strategy, whose `Retry-After` is the grid's too); and the reported end may differ by a few ms
/// between answers of one window. The ledger starts from the reported ends and drops to a rule that
/// holds however the server counts as soon as the server's own counts contradict them:
///
/// 1. ``Mode/reportedEnds``: answers whose reported ends are closer than half a window belong to
///    one window (two windows of one client cannot overlap, so a real new window's end is a whole
///    window later). A window is over once a later one shows a count that restarted, or one window
///    after its first answer (every request of it arrived by then, so it began by then). Once the
///    wall clock says the newest window ended (plus ``clockGuard``), one request goes as a *test*:
///    its count shows whether the server's count restarted there. Until a restart is seen where
///    only the reported end explains it (``endsConfirmed``), one request of every window is kept
///    back for that test, so a full window is never probed; after it, the test goes on a full
///    window too (a *probe*). A test counted in the window it was sent after shows our clock runs
///    ahead: no more tests. A count that went on past a reported end (higher than the requests that
///    could be in the later window), or went down within one reported window for a request sent
///    after the higher count was seen, shows the reported end is not the reset → ``Mode/starters``.
/// 2. ``Mode/starters`` (clock-free): every window begins with a request counted 1, and began no
///    later than any of its requests arrived, so it is over one window after the earliest answer
///    among them. A request stops counting once every window it may be in is over: one window
///    after its own answer (it arrived by then) or, when the counts tell which of our requests began
///    its window, one window after the earliest answer in that window — a whole window's requests
///    are freed together, whatever the server's window is aligned to (see ``freeingTimes()``).
///
/// In both modes the server's count bounds what may go too: the highest count of the current window
/// plus ours not answered yet. That covers another client on the IP and requests sent before this run. Pure arithmetic on two time scales — the limiter's monotonic one
/// (``Duration`` since its origin) and the server's wall clock (seconds since 1970) — so it is
/// tested by simulation against every way of counting, without sleeping.
package struct WindowLedger: Sendable {
    /// One request the ledger let go.
    package struct Ticket: Sendable, Hashable {
        let id: UInt64
    }

    package enum Decision: Sendable, Equatable {
        /// Send now (a probe or test: sent after the newest window's reported end, by the clock).
        case go(probe: Bool)
        /// Nothing can go before `until` (nil: before an answer comes back).
        case wait(until: Duration?)
    }

    /// How the ledger tells where the server's windows end (see the type's documentation).
    package enum Mode: String, Sendable, Equatable {
        case reportedEnds = "reported-ends"
        case starters
    }

    struct Send {
        let ticket: Ticket
        let sentAt: Duration
        var answeredAt: Duration?
        /// The server's count when it arrived (`limit − remaining`), once answered with headers.
        var count: Int?
        /// Refused with a 429.
        var refused = false
        /// The reported window it was placed in.
        var window: Int?
        /// The window current when it was sent and the highest count seen in it by then.
        let sentAfter: (window: Int, count: Int)?
        /// Sent as a test of the newest window's reported end.
        let test: Bool

        /// It may have begun a window: counted 1, or answered without a count (lost, stripped).
        var mayHaveBegun: Bool { count == 1 || (count == nil && !refused) }
    }

    /// A cluster of reported ends (``Mode/reportedEnds``).
    struct Window {
        let id: Int
        /// The latest reported end of its answers (server clock).
        var end: Double
        /// The highest count an answer from it reported.
        var count: Int
        /// The earliest local time one of its requests was answered.
        var firstAnswer: Duration
        /// The earliest local time one of its requests was sent.
        var firstSend: Duration
        /// When the test that began it (count 1) was sent and answered, on the wall clock.
        var opened: ClosedRange<Double>?
    }

    /// Requests per window (Cryptlex: 50).
    package let limit: Int
    /// The window's length; the server's `X-Rate-Limit-Limit` replaces it.
    package private(set) var window: Duration
    /// How long after the newest window's end, by our clock, a test may go.
    package let clockGuard: Duration
    /// An answer carried plausible window headers: the ledger decides (else the limiter's fixed rate does).
    package private(set) var following = false
    /// Tests are allowed (the clocks have not been caught disagreeing).
    package private(set) var clockTrusted = true
    /// A count was seen to restart at a reported end: a full window may be probed.
    package private(set) var endsConfirmed = false
    /// How windows are told apart now; it only ever moves down the list.
    package private(set) var mode = Mode.reportedEnds

    private var sends: [Send] = []
    private var nextID: UInt64 = 0
    private var nextWindow = 0
    /// The newest reported window.
    private var newest: Window?
    /// The test in flight and the window end it was sent after.
    private var probe: (ticket: Ticket, after: Double)?
    /// The wall clock minus the monotonic one, as last seen (to place a send on the wall clock).
    private var wallOffset: Double?

    package init(limit: Int, window: Duration = .seconds(5), clockGuard: Duration = .milliseconds(100)) {
        precondition(limit >= 1, "a window holds at least one request")
        self.limit = limit
        self.window = window
        self.clockGuard = clockGuard
    }

    /// Whether a request may go at `now` (monotonic) when the wall clock reads `wall`.
    package mutating func decide(now: Duration, wall: Double) -> Decision {
        prune(now: now)
        let freed = freeingTimes()
        let used = used(now: now, freed: freed)
        func nextChange() -> Duration? { freed.values.filter { $0 > now }.min() }
        switch mode {
        case .reportedEnds:
            let reserve = clockTrusted && newest != nil && !endsConfirmed ? 1 : 0
            if used < limit - reserve { return .go(probe: false) }
            let testAt = used < limit || endsConfirmed ? probeTime(now: now, wall: wall) : nil
            if let testAt, testAt <= now { return .go(probe: true) }
            return .wait(until: [testAt, newest.map { $0.firstAnswer + window }, nextChange()].compactMap { $0 }.min())
        case .starters:
            if used < limit { return .go(probe: false) }
            return .wait(until: nextChange())
        }
    }

    /// Records a request sent at `now`.
    package mutating func record(now: Duration, probe isProbe: Bool) -> Ticket {
        nextID += 1
        let ticket = Ticket(id: nextID)
        let current = newest.map { (window: $0.id, count: $0.count) }
        sends.append(Send(ticket: ticket, sentAt: now, sentAfter: current, test: isProbe))
        if isProbe, let newest { probe = (ticket, newest.end) }
        return ticket
    }

    /// Forgets a request that was never sent.
    package mutating func release(_ ticket: Ticket) {
        sends.removeAll { $0.ticket == ticket }
        if probe?.ticket == ticket { probe = nil }
    }

    /// Takes in what the answer to `ticket` said, at `now` (monotonic) and `wall`.
    package mutating func answered(_ ticket: Ticket, _ report: WindowReport, now: Duration, wall: Double) {
        let probedAfter = probe?.ticket == ticket ? probe?.after : nil
        if probedAfter != nil { probe = nil }
        if let length = report.window, length > .zero { window = length }
        guard let index = sends.firstIndex(where: { $0.ticket == ticket }) else { return }
        sends[index].answeredAt = now
        wallOffset = wall - now.secondsValue
        if report.refused {
            // A probe refused: it arrived before the window's end (our clock runs ahead, or the
            // reported end is not the reset).
            sends[index].refused = true
            if probedAfter != nil { clockTrusted = false }
            return
        }
        guard let remaining = report.remaining, let end = report.windowEnd?.timeIntervalSince1970 else {
            // An HTTP answer without the headers: they are not sent (or stripped on the way).
            if report.answered { following = false }
            return
        }
        following = true
        let count = max(limit - remaining, 1)
        sends[index].count = count
        let ahead = end - wall
        if ahead < -window.secondsValue - 1 || ahead > window.secondsValue + 1 { clockTrusted = false }
        if mode == .reportedEnds { place(index, end: end, count: count, probedAfter: probedAfter, now: now) }
    }

    // MARK: reported ends

    /// Puts an answered request into the window its reported end names.
    private mutating func place(_ index: Int, end: Double, count: Int, probedAfter: Double?, now: Duration) {
        let half = window.secondsValue / 2
        // A test counted in the window it was sent after: it arrived before that window's end.
        if let probedAfter, end < probedAfter + half { clockTrusted = false }
        let send = sends[index]
        // A test that began a window: when it was sent and answered, on the wall clock.
        let opened = count == 1 && send.test ? wallTime(send.sentAt)...wallTime(now) : nil
        guard var current = newest else {
            open(index, end: end, count: count, now: now, opened: opened)
            return
        }
        if abs(end - current.end) < half {
            if let before = send.sentAfter, before.window == current.id, count <= before.count {
                // Sent after a higher count of this window was seen, yet counted lower: the count
                // restarted within one reported window.
                return enterStarters()
            }
            current.end = max(current.end, end)
            current.count = max(current.count, count)
            current.firstAnswer = min(current.firstAnswer, now)
            current.firstSend = min(current.firstSend, send.sentAt)
            current.opened = current.opened ?? opened
            newest = current
            sends[index].window = current.id
            return
        }
        if end < current.end {
            sends.remove(at: index)  // from a window that a later one already closed
            return
        }
        // A later window (it arrived after every request of this one). Its count is higher than
        // the requests that could be in it: the count went on past the reported end. Not higher
        // than this window's: it restarted. Between the two, it may have either way: a new window
        // for what follows, but this one's requests keep counting until they are one window old.
        let couldBeInIt = sends.count { $0.answeredAt == nil || $0.window == nil }
        if count > couldBeInIt { return enterStarters() }
        if count <= current.count {
            // The restart is where the server said if it came before a count from the previous
            // window's first request could have restarted (a grid), or if that window began with a
            // test and its reported end is one window after the test arrived (counted from the first
            // request, and reported so; a grid-reported end puts the start before the test was sent).
            if send.sentAt + window / 5 < current.firstSend + window { endsConfirmed = true }
            if let opened = current.opened {
                let start = current.end - window.secondsValue
                if opened.lowerBound < start, start <= opened.upperBound { endsConfirmed = true }
            }
            sends.removeAll { $0.window != nil }  // every request of an older window is behind us
        }
        open(sends.firstIndex { $0.ticket == send.ticket }!, end: end, count: count, now: now, opened: opened)
    }

    private mutating func open(_ index: Int, end: Double, count: Int, now: Duration, opened: ClosedRange<Double>?) {
        nextWindow += 1
        newest = Window(
            id: nextWindow, end: end, count: count, firstAnswer: now, firstSend: sends[index].sentAt, opened: opened)
        sends[index].window = nextWindow
    }

    /// When the wall clock says the newest window is over: the time a test may go (nil: none).
    private func probeTime(now: Duration, wall: Double) -> Duration? {
        guard clockTrusted, probe == nil, let newest else { return nil }
        let wait = newest.end + clockGuard.secondsValue - wall
        return wait <= 0 ? now : now + Duration(secondsValue: wait)
    }

    /// A monotonic time on the wall clock, as the last answer related the two.
    private func wallTime(_ time: Duration) -> Double {
        time.secondsValue + (wallOffset ?? 0)
    }

    private mutating func enterStarters() {
        mode = .starters
        newest = nil
        probe = nil
        for index in sends.indices { sends[index].window = nil }
    }

    // MARK: starters

    /// When each request stops counting (absent: not answered, it may arrive any time).
    ///
    /// In ``Mode/reportedEnds`` one window after its answer (a placed request goes with its window).
    /// In ``Mode/starters``: a request counted 1 began its window; one of unknown count may have.
    /// The *candidates* for a request are those that may have begun its window: sent before it was
    /// answered (so before it arrived), not provably over when it was sent, and not shown by the
    /// counts to be in another window (a request of that window answered before this one was sent,
    /// with a count at least as high). A request with one candidate is in that window, which began
    /// no later than any of its requests arrived: it is over one window after the earliest answer
    /// among them. With several candidates, the latest of their windows' ends; with a candidate not
    /// answered yet, or none (someone else's request began the window), one window after its own
    /// answer.
    private func freeingTimes() -> [Ticket: Duration] {
        var freed: [Ticket: Duration] = [:]
        for send in sends { if let answeredAt = send.answeredAt { freed[send.ticket] = answeredAt + window } }
        guard mode == .starters else { return freed }
        let starters = sends.filter(\.mayHaveBegun)
        func candidates(_ send: Send, _ answeredAt: Duration) -> [Send] {
            if send.count == 1 { return [send] }
            return starters.filter {
                $0.sentAt <= answeredAt && $0.ticket != send.ticket
                    && send.sentAt < ($0.answeredAt.map { $0 + window } ?? .seconds(1e12))
            }
        }
        // Pass 1: requests with one candidate; pass 2: the counts rule out others' windows.
        var group: [Ticket: Ticket] = [:]
        var undecided: [(Send, [Send])] = []
        for send in sends where send.count != nil {
            let found = candidates(send, send.answeredAt!)
            if found.count == 1 { group[send.ticket] = found[0].ticket } else { undecided.append((send, found)) }
        }
        for (send, found) in undecided {
            let left = found.filter { candidate in
                !sends.contains { other in
                    group[other.ticket] == candidate.ticket && (other.answeredAt.map { $0 < send.sentAt } ?? false)
                        && (other.count ?? 0) >= send.count!
                }
            }
            if left.count == 1 { group[send.ticket] = left[0].ticket }
        }
        var groupEnd: [Ticket: Duration] = [:]
        for send in sends {
            guard let starter = group[send.ticket], let answeredAt = send.answeredAt else { continue }
            groupEnd[starter] = min(groupEnd[starter] ?? answeredAt + window, answeredAt + window)
        }
        for (send, found) in undecided where group[send.ticket] == nil {
            guard !found.isEmpty, found.allSatisfy({ $0.answeredAt != nil }) else { continue }
            let latest = found.map { groupEnd[$0.ticket] ?? $0.answeredAt! + window }.max()!
            freed[send.ticket] = min(freed[send.ticket]!, latest)
        }
        for send in sends {
            if let starter = group[send.ticket], let end = groupEnd[starter] {
                freed[send.ticket] = min(freed[send.ticket]!, end)
            }
        }
        return freed
    }

    // MARK: every mode

    /// Requests that could share a window with one sent now: ours still counted, or the server's
    /// count (the highest count of a request still counted, or of the newest reported window) plus
    /// ours not answered yet.
    package func used(now: Duration) -> Int {
        used(now: now, freed: freeingTimes())
    }

    private func used(now: Duration, freed: [Ticket: Duration]) -> Int {
        var ours = 0
        var unanswered = 0
        var highest = 0
        for send in sends {
            guard let at = freed[send.ticket] else {
                ours += 1
                unanswered += 1
                continue
            }
            guard at > now else { continue }
            ours += 1
            if let count = send.count { highest = max(highest, count) } else if !send.refused { unanswered += 1 }
        }
        if mode == .reportedEnds, let newest {
            highest = newest.count
            unanswered = sends.count { $0.answeredAt == nil || $0.window == nil }
        }
        return max(ours, highest > 0 ? highest + unanswered : 0)
    }

    private mutating func prune(now: Duration) {
        if mode == .reportedEnds, probe == nil, let current = newest, now >= current.firstAnswer + window {
            // One of its requests arrived at or after its start and was answered by then. (Not
            // while a test is out: its answer tells whether that window's count restarted.)
            sends.removeAll { $0.window != nil }
            newest = nil
        }
        // Freed requests go; so does one in flight for two minutes, beyond any timeout. In reported
        // ends a window's own requests go with it (its end comes no later than theirs would); one
        // that may have begun a window stays until one window after its answer, while requests
        // may still count it among their candidates.
        let freed = freeingTimes()
        sends.removeAll { send in
            guard let at = freed[send.ticket], let answeredAt = send.answeredAt else {
                return send.sentAt + .seconds(120) <= now
            }
            if mode == .reportedEnds && send.window != nil { return false }
            return at <= now && (!send.mayHaveBegun || answeredAt + window <= now)
        }
    }
}

import Foundation
import Testing
@testable import Scheduling

/// The window-following limiter's decisions, against a simulated server that counts requests
/// on arrival in fixed windows, in simulated milliseconds (no sleeping, no wall-clock timing: the
/// figures are the simulation's, the same on every machine).
@Suite("Following the server's rate-limit windows")
struct WindowLedgerTests {
    /// A fixed-window server on its own clock (milliseconds since 1970).
    struct Server {
        enum Windows { case grid, fromFirstRequest }
        let limit = 50
        let windowMs = 5_000
        let windows: Windows
        var start = -1
        var count = 0

        /// Counts a request arriving at `time`: (allowed, remaining, window end) or refused with Retry-After.
        mutating func admit(at time: Int) -> (allowed: Bool, remaining: Int, endMs: Int, retryAfterMs: Int) {
            switch windows {
            case .grid:
                let windowStart = time - time % windowMs
                if windowStart != start { start = windowStart; count = 0 }
            case .fromFirstRequest:
                if start < 0 || time >= start + windowMs { start = time; count = 0 }
            }
            count += 1
            let end = start + windowMs
            if count > limit { return (false, 0, end, ((end - time + 999) / 1000) * 1000) }
            return (true, limit - count, end, 0)
        }
    }

    struct Outcome {
        var finishedMs = 0
        var refused = 0
        var sent = 0
        /// The other client's requests the server refused.
        var otherRefused = 0
        var clockTrusted = true
        var following = false
    }

    /// Sends `total` requests with `workers` in flight at most; latency to the server 0–`upMs`,
    /// then `latencyMs` ± `jitterMs` until the answer. `skewMs`: how far the client's wall clock
    /// runs ahead of the server's. `before`: requests someone sent in the same window just before.
    /// `otherEveryMs`: another client sharing the limit sends one request this often.
    static func simulate(total: Int, workers: Int = 8, windows: Server.Windows = .grid, phaseMs: Int = 0,
                         upMs: Int = 20, latencyMs: Int = 100, jitterMs: Int = 50, skewMs: Int = 0,
                         before: Int = 0, otherEveryMs: Int? = nil, windowLimit: Int = 50, seed: UInt64 = 7) -> Outcome {
        var server = Server(windows: windows)
        var ledger = WindowLedger(limit: windowLimit)
        var random = SeededGenerator(seed: seed)
        let epochMs = 1_700_000_000_000 - 1_700_000_000_000 % 5_000 + phaseMs  // server time at local 0
        for index in 0..<before { _ = server.admit(at: epochMs - before + index) }
        struct InFlight { var ticket: WindowLedger.Ticket; var arrival: Int; var answer: Int; var verdict: (allowed: Bool, remaining: Int, endMs: Int, retryAfterMs: Int)? }
        var inFlight: [InFlight] = []
        var toSend = total
        var done = 0
        var pausedUntil = 0
        var outcome = Outcome()
        var now = 0
        var nextOther = otherEveryMs ?? .max
        while done < total {
            if now >= nextOther {
                if !server.admit(at: epochMs + now).allowed { outcome.otherRefused += 1 }
                nextOther += otherEveryMs!
            }
            // Arrivals, then answers, at this millisecond.
            for index in inFlight.indices where inFlight[index].arrival == now {
                inFlight[index].verdict = server.admit(at: epochMs + now)
            }
            for flight in inFlight where flight.answer == now {
                let verdict = flight.verdict!
                let report = verdict.allowed
                    ? WindowReport(answered: true, remaining: verdict.remaining,
                                   windowEnd: Date(timeIntervalSince1970: Double(verdict.endMs) / 1000), window: .seconds(5))
                    : WindowReport(answered: true, refused: true)
                ledger.answered(flight.ticket, report, now: .milliseconds(now), wall: Double(epochMs + now + skewMs) / 1000)
                if verdict.allowed {
                    done += 1
                } else {
                    outcome.refused += 1
                    toSend += 1
                    pausedUntil = max(pausedUntil, now + verdict.retryAfterMs)
                }
            }
            inFlight.removeAll { $0.answer == now }
            // Send what the ledger lets go; note when it says to ask again.
            var askAgain: Int?
            while toSend > 0, inFlight.count < workers, now >= pausedUntil, ledger.following || outcome.sent == 0 {
                let decision = ledger.decide(now: .milliseconds(now), wall: Double(epochMs + now + skewMs) / 1000)
                guard case .go(let probe) = decision else {
                    if case .wait(let until?) = decision {
                        askAgain = max(now + 1, Int((until.secondsValue * 1000).rounded(.up)))
                    }
                    break
                }
                let ticket = ledger.record(now: .milliseconds(now), probe: probe)
                let arrival = now + 1 + Int.random(in: 0...upMs, using: &random)
                let answer = arrival + latencyMs + Int.random(in: -jitterMs...jitterMs, using: &random)
                inFlight.append(InFlight(ticket: ticket, arrival: arrival, answer: max(answer, arrival + 1)))
                toSend -= 1
                outcome.sent += 1
            }
            // The next event: an arrival, an answer, the other client, the end of a pause, the ledger's time.
            var next = inFlight.map { $0.arrival > now ? $0.arrival : $0.answer }.min() ?? .max
            next = min(next, nextOther, askAgain ?? .max)
            if pausedUntil > now { next = min(next, pausedUntil) }
            guard next != .max, done < total else { break }
            now = next
        }
        if done < total { Issue.record("stuck at \(now) ms: \(done) of \(total) done, nothing to wait for") }
        outcome.finishedMs = now
        outcome.clockTrusted = ledger.clockTrusted
        outcome.following = ledger.following
        return outcome
    }

    /// Issue 13: 500 requests at 50 per 5 s with 100 ± 50 ms latency, at ≥ 9.75/s and no 429, for
    /// any position of the server's windows when the run starts.
    @Test(arguments: [0, 1_300, 2_500, 4_990])
    func fiveHundredRequestsFillTheWindowsWithoutARefusal(phaseMs: Int) {
        let outcome = Self.simulate(total: 500, phaseMs: phaseMs)
        #expect(outcome.refused == 0)
        #expect(outcome.clockTrusted)
        #expect(Double(500) / (Double(outcome.finishedMs) / 1000) >= 9.75, "\(outcome.finishedMs) ms")
    }

    /// Windows that start with the first request after the last one ended (as ASP.NET rate
    /// limiters count) instead of on a grid: still no refusal.
    @Test(arguments: [0, 2_500])
    func windowsStartedByTheFirstRequestAreFilledWithoutARefusal(phaseMs: Int) {
        let outcome = Self.simulate(total: 500, windows: .fromFirstRequest, phaseMs: phaseMs)
        #expect(outcome.refused == 0)
        #expect(Double(500) / (Double(outcome.finishedMs) / 1000) >= 9.6, "\(outcome.finishedMs) ms")
    }

    /// A client clock behind the server's only delays the probe: no refusal.
    @Test func aClockBehindTheServersCostsNoRefusal() {
        let outcome = Self.simulate(total: 500, skewMs: -2_000)
        #expect(outcome.refused == 0)
    }

    /// A clock ahead of the server's sends one probe too early: one 429, after which probes stop
    /// and the clock-free rules alone keep the windows (no other refusal).
    @Test(arguments: [400, 2_000, 20_000])
    func aClockAheadOfTheServersCostsAtMostOneRefusal(skewMs: Int) {
        let outcome = Self.simulate(total: 500, skewMs: skewMs)
        #expect(outcome.refused <= 1)
        #expect(!outcome.clockTrusted)
        #expect(Double(500) / (Double(outcome.finishedMs) / 1000) >= 9.0, "\(outcome.finishedMs) ms")
    }

    /// Requests someone sent just before the run are in the server's count: the first window is
    /// filled only up to it.
    @Test func requestsSentBeforeTheRunAreLeftRoomFor() {
        let outcome = Self.simulate(total: 200, phaseMs: 4_000, before: 45)
        #expect(outcome.refused == 0)
    }

    /// Wide latency spread (10–400 ms): arrivals are bounded by send and answer, so still none.
    @Test func aWideLatencySpreadCostsNoRefusal() {
        let outcome = Self.simulate(total: 500, upMs: 200, latencyMs: 200, jitterMs: 190)
        #expect(outcome.refused == 0)
    }

    /// Another client sharing the limit (2 requests/s): licprov meets a few 429s (paused for, sent
    /// again) and still finishes near the ceiling. It leaves the other client no reserve: that one
    /// finds most windows full (80 of its 100 requests refused here) — the limit is per IP, and
    /// licprov takes what the server's count shows free.
    @Test func aSecondClientSharingTheLimitCostsAFewRefusals() {
        let outcome = Self.simulate(total: 500, otherEveryMs: 500)
        #expect(outcome.refused <= 20, "\(outcome.refused) refusals")
        #expect(outcome.finishedMs < 60_000, "\(outcome.finishedMs) simulated ms")
        #expect(outcome.otherRefused > 0)  // the model is not blind to the other client's side
    }

    /// The reserve for that other client is `--window-limit`: at 40 of the server's 50, the other
    /// client (10 a window) is never refused, and licprov neither.
    @Test func aLowerWindowLimitLeavesTheOtherClientItsShare() {
        let outcome = Self.simulate(total: 500, otherEveryMs: 500, windowLimit: 40)
        #expect(outcome.otherRefused == 0, "\(outcome.otherRefused) of the other client's requests refused")
        #expect(outcome.refused == 0, "\(outcome.refused) refusals")
        #expect(Double(500) / (Double(outcome.finishedMs) / 1000) >= 7.0, "\(outcome.finishedMs) simulated ms")
    }

    /// Without the headers, the ledger never takes over (the limiter's fixed rate decides).
    @Test func answersWithoutHeadersLeaveTheFixedRateInCharge() {
        var ledger = WindowLedger(limit: 50)
        let ticket = ledger.record(now: .zero, probe: false)
        ledger.answered(ticket, WindowReport(answered: true), now: .milliseconds(100), wall: 1_000)
        #expect(!ledger.following)
    }

    /// A full window waits for the earliest moment something can change: the wall clock's probe,
    /// or one window after the first answer from it.
    @Test func aFullWindowWaitsForTheProbeOrTheWindowsProvenEnd() {
        var ledger = WindowLedger(limit: 3)
        let wall = 1_000.0  // a window ending at 1002.0 (server clock)
        var tickets: [WindowLedger.Ticket] = []
        for _ in 0..<3 {
            guard case .go(false) = ledger.decide(now: .zero, wall: wall) else { Issue.record("expected go"); return }
            tickets.append(ledger.record(now: .zero, probe: false))
        }
        #expect(ledger.decide(now: .zero, wall: wall) == .wait(until: nil))  // all in flight
        for (index, ticket) in tickets.enumerated() {
            ledger.answered(ticket, WindowReport(answered: true, remaining: 2 - index, windowEnd: Date(timeIntervalSince1970: 1_002),
                                                 window: .seconds(5)), now: .milliseconds(100), wall: wall + 0.1)
        }
        // The probe may go when the clock reads 1002.1 (the window's end and the guard).
        #expect(ledger.decide(now: .milliseconds(100), wall: wall + 0.1) == .wait(until: .milliseconds(2_100)))
        #expect(ledger.decide(now: .milliseconds(2_100), wall: wall + 2.1) == .go(probe: true))
        let probe = ledger.record(now: .milliseconds(2_100), probe: true)
        // The probe is the only request allowed until its answer (or until the window is over
        // whatever the clocks say: 5 s after its first answer).
        #expect(ledger.decide(now: .milliseconds(2_101), wall: wall + 2.101) == .wait(until: .milliseconds(5_100)))
        ledger.answered(probe, WindowReport(answered: true, remaining: 2, windowEnd: Date(timeIntervalSince1970: 1_007), window: .seconds(5)),
                        now: .milliseconds(2_200), wall: wall + 2.2)
        #expect(ledger.used(now: .milliseconds(2_200)) == 1)
        #expect(ledger.decide(now: .milliseconds(2_200), wall: wall + 2.2) == .go(probe: false))
        #expect(ledger.clockTrusted)
    }
}

/// SplitMix64, for simulations that are the same on every run.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

import CryptlexAPI
import CryptlexModels
import Foundation
import Journal
import Logging
import Scheduling

/// Every request of a run goes through here: the run's one ``RetryExecutor`` (rate limit,
/// retries and backoff, 429 pauses and their budget, a stop on a refused token), plus what the
/// API's answers carry back — the 429 count, and `X-Rate-Limit-Remaining`/`Reset`/`Limit` for the
/// limiter, which fills the server's windows with them (see ``RateLimiter``).
package struct RunRequests: Sendable {
    package let executor: RetryExecutor<RunClock>
    package let counters: RunCounters
    /// The list filters the API refused this run (shared by every lookup).
    package let operators: ListOperators
    package var stop: StopSignal { executor.stop }
    package var policy: RetryPolicy { executor.policy }
    /// The clock every wait of the run is on (the executor's: backoff, pauses, lookup delays).
    package var clock: RunClock { executor.clock }

    package init(executor: RetryExecutor<RunClock>, counters: RunCounters, operators: ListOperators) {
        self.executor = executor
        self.counters = counters
        self.operators = operators
    }

    package typealias Ending<Value: Sendable> = RetryExecutor<RunClock>.Ending<CryptlexClient.Answer<Value>, APIError>

    /// Sends one API call until an outcome the caller must act on (see ``RetryExecutor``).
    /// `count` is called before each send with whether it is a retry.
    package func send<Value: Sendable, HookError: Error>(
        failedBefore: Int = 0,
        classify: (APIError) -> OutcomeClass = { $0.outcome },
        count: (inout RunCounts, _ isRetry: Bool) -> Void,
        beforeSend: (_ isRetry: Bool) async throws(HookError) -> Void = { _ in },
        onRetry: (APIError) async throws(HookError) -> Void = { _ in },
        _ call: () async throws(APIError) -> CryptlexClient.Answer<Value>
    ) async throws(HookError) -> Ending<Value> {
        try await executor.run(
            failedBefore: failedBefore,
            classify: classify,
            beforeSend: { (isRetry: Bool) async throws(HookError) in
                try await beforeSend(isRetry)
                counters.update { count(&$0, isRetry) }
            },
            send: { () async -> Result<CryptlexClient.Answer<Value>, APIError> in
                do throws(APIError) { return .success(try await call()) } catch { return .failure(error) }
            },
            report: Self.windowReport,
            afterAnswer: { (result: Result<CryptlexClient.Answer<Value>, APIError>) async throws(HookError) in
                if case .failure(let error) = result, error.status == 429 {
                    counters.update { $0.tooManyRequests += 1 }
                }
            },
            onRetry: onRetry)
    }

    /// ``send(failedBefore:count:beforeSend:onRetry:_:)`` with nothing to record before or between sends.
    package func send<Value: Sendable>(
        failedBefore: Int = 0, classify: (APIError) -> OutcomeClass = { $0.outcome },
        count: (inout RunCounts, _ isRetry: Bool) -> Void,
        _ call: () async throws(APIError) -> CryptlexClient.Answer<Value>
    ) async -> Ending<Value> {
        let noHook: (Bool) async throws(Never) -> Void = { _ in }
        return await send(
            failedBefore: failedBefore, classify: classify, count: count, beforeSend: noHook,
            onRetry: { (_: APIError) async throws(Never) in }, call)
    }

    /// One journaled send of an entry (a create or a change): marked in flight, durably, before each
    /// attempt (the first not again when the feed marked it ahead: `markedAhead` says whether that
    /// marking is still unused afterwards), a retry recorded pending, an ambiguous ending recorded in
    /// flight — from there, a crash is settled on the next run before anything is sent again.
    /// Returns the ending and when its last attempt went.
    package func sendJournaled<Value: Sendable>(
        _ entryID: Int64, committer: JournalCommitter, failedBefore: Int, markedAhead: inout Bool,
        _ call: () async throws(APIError) -> CryptlexClient.Answer<Value>
    ) async throws(JournalError) -> (ending: Ending<Value>, sentAt: String) {
        var sentAt = ""
        var ahead = markedAhead
        let ending = try await send(
            failedBefore: failedBefore,
            count: { counts, isRetry in
                counts.requests += 1
                if isRetry || failedBefore > 0 { counts.retries += 1 }
            },
            beforeSend: { (_: Bool) async throws(JournalError) in
                if ahead { ahead = false } else { try await committer.markInFlight(entryID) }
                sentAt = committer.timestamp()
            },
            onRetry: { (error: APIError) async throws(JournalError) in
                try committer.post(
                    AttemptOutcome(
                        entryID: entryID, state: .pending, httpStatus: error.status,
                        error: error.description, startedAt: sentAt))
            }, call)
        markedAhead = ahead
        if case .failed(let error, .ambiguous, _) = ending {
            counters.update { $0.ambiguous += 1 }
            try committer.post(
                AttemptOutcome(
                    entryID: entryID, state: .inFlight, httpStatus: error.status,
                    error: error.description, startedAt: sentAt))
        }
        return (ending, sentAt)
    }

    /// `--max-failures`: once this many rows failed, were rejected or conflict, the run stops (0: never).
    package func noteFailure(maxFailures: Int) {
        guard maxFailures > 0 else { return }
        let count = counters.snapshot
        let failed = count.failed + count.rejected + count.conflicts
        if failed >= maxFailures { stop.request(.tooManyFailures(failed)) }
    }

    /// Why a read gave no answer (`status`: the HTTP status, when one came back).
    package struct ReadFailure: Error, Sendable {
        package var reason: String
        package var status: Int? = nil
    }

    /// A read (a GET: any failure but a 4xx or a refused token is retried).
    package func read<Value: Sendable>(
        count: @escaping (inout RunCounts) -> Void,
        _ call: () async throws(APIError) -> CryptlexClient.Answer<Value>
    ) async -> Result<Value, ReadFailure> {
        switch await send(count: { counts, _ in count(&counts) }, call) {
        case .answered(let answer): .success(answer.value)
        case .failed(let error, _, _): .failure(ReadFailure(reason: error.description, status: error.status))
        case .notSent: .failure(ReadFailure(reason: "the run stopped before the lookup"))
        }
    }

    /// The one pager: each page of a list (`GET` with `page` from 1, 100 a page) handed to `body`
    /// as it comes, until a short page or until `body` says it has what it asked for (false). A
    /// list of 100,000 licenses is never held whole here. The failure of a page's request, if any.
    package func forEachPage<Element: Sendable>(
        count: @escaping (inout RunCounts) -> Void,
        _ call: (_ page: Int) async throws(APIError) -> CryptlexClient.Answer<[Element]>,
        _ body: ([Element]) -> Bool
    ) async -> ReadFailure? {
        for page in 1... {
            switch await read(count: count, { () async throws(APIError) in try await call(page) }) {
            case .success(let batch):
                if !body(batch) || batch.count < 100 { return nil }
            case .failure(let failure):
                return failure
            }
        }
        return nil
    }

    /// Every page of a list (``forEachPage(count:_:_:)``), until a short page or until `complete`
    /// says the caller has all it asked for; nil when a request failed.
    package func readPages<Element: Sendable>(
        count: @escaping (inout RunCounts) -> Void, complete: ([Element]) -> Bool = { _ in false },
        _ call: (_ page: Int) async throws(APIError) -> CryptlexClient.Answer<[Element]>
    ) async -> [Element]? {
        try? await readAllPages(count: count, complete: complete, call).get()
    }

    /// ``readPages(count:complete:_:)``, saying why when a request failed.
    package func readAllPages<Element: Sendable>(
        count: @escaping (inout RunCounts) -> Void, complete: ([Element]) -> Bool = { _ in false },
        _ call: (_ page: Int) async throws(APIError) -> CryptlexClient.Answer<[Element]>
    ) async -> Result<[Element], ReadFailure> {
        var all: [Element] = []
        if let failure = await forEachPage(
            count: count, call,
            { batch in
                all += batch
                return !complete(all)
            })
        {
            return .failure(failure)
        }
        return .success(all)
    }

    /// What an answer said about the server's window.
    static func windowReport<Value>(_ result: Result<CryptlexClient.Answer<Value>, APIError>) -> WindowReport {
        let (status, headers): (Int?, RateLimitStatus) =
            switch result {
            case .success(let answer): (answer.status, answer.rateLimit)
            case .failure(let error): (error.status, error.rateLimit)
            }
        return WindowReport(
            answered: status != nil, refused: status == 429, remaining: headers.remaining,
            windowEnd: headers.reset, window: headers.window)
    }
}

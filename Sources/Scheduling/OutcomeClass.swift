/// What a failed request means for whoever sent it: the vocabulary in which the API module
/// classifies every failure (it knows HTTP; this module does not) and which ``RetryExecutor``
/// obeys. The one place where licprov decides whether a request may be sent again.
///
/// | Class | When (Cryptlex) | What happens |
/// |---|---|---|
/// | `throttled` | 429 | every worker pauses for `after`; not an attempt; the run's ``ThrottleBudget`` bounds how many |
/// | `retryable` | connect failure; 503 with `Retry-After`; any failure of a GET | back off (at least `after`), send again |
/// | `ambiguous` | timeout or reset after a POST was sent; 500, 502, 504; 503 without `Retry-After`; a 2xx whose body cannot be read | the caller looks the resource up before sending again |
/// | `permanent` | 400, 404, 409 and other 4xx | record the error; do not send again |
/// | `stopRun` | 401, 403 | stop the whole run: no other request can succeed |
package enum OutcomeClass: Sendable, Equatable {
    case throttled(after: Duration?)
    case retryable(after: Duration?)
    case ambiguous
    case permanent
    case stopRun
}

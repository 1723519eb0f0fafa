/// What a failed request means for the caller: the one place where licprov decides whether a
/// request may be sent again.
///
/// | Class | When | What the caller does |
/// |---|---|---|
/// | `retryable` | 429; connect failure; 503 with `Retry-After`; any failure of a GET | wait (at least `after`), send again |
/// | `ambiguous` | timeout or reset after a POST was sent; 500, 502, 504; 503 without `Retry-After`; a 2xx whose body cannot be read | look the resource up before sending again |
/// | `permanent` | 400, 404, 409 and other 4xx | record the error; do not send again |
/// | `stopRun` | 401, 403 | stop the whole run: no other request can succeed |
public enum OutcomeClass: Sendable, Equatable {
    case retryable(after: Duration?)
    case ambiguous
    case permanent
    case stopRun
}

import Synchronization

/// The first of several values, handed to the one waiting caller.
package final class First<Value: Sendable>: Sendable {
    private enum State {
        case open(CheckedContinuation<Value, Never>?)
        case early(Value)
        case done
    }
    private let state = Mutex(State.open(nil))

    package init() {}

    /// Takes the one caller's continuation (resumed at once if a value came first).
    package func wait(_ continuation: CheckedContinuation<Value, Never>) {
        // An array, not an optional: `Value` may be optional itself.
        let early = state.withLock { state -> [Value] in
            guard case .early(let value) = state else {
                state = .open(continuation)
                return []
            }
            state = .done
            return [value]
        }
        if let value = early.first { continuation.resume(returning: value) }
    }

    /// Hands `value` to the caller if it is the first; later values are dropped.
    package func settle(_ value: Value) {
        let waiting = state.withLock { state -> CheckedContinuation<Value, Never>? in
            switch state {
            case .open(let continuation?):
                state = .done
                return continuation
            case .open(nil):
                state = .early(value)
                return nil
            case .early, .done:
                return nil
            }
        }
        waiting?.resume(returning: value)
    }
}

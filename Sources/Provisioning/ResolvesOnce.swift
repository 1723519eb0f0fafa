/// Resolves each key once (a customer's user id, an organization's or reseller's id): the first
/// caller resolves it, callers that ask meanwhile wait for that outcome, later ones get it at once.
/// The shape ``CustomerResolver`` and ``DirectoryResolver`` share.
protocol ResolvesOnce: Actor {
    associatedtype Outcome: Sendable
    var once: OnceEach<Outcome> { get set }
    /// Resolves `id`; called once per key.
    func resolve(_ id: Int64) async -> Outcome
}

extension ResolvesOnce {
    /// The outcome for `id`, resolving it the first time it is asked for.
    func resolved(_ id: Int64) async -> Outcome {
        if let outcome = once.outcomes[id] { return outcome }
        if once.waiters[id] != nil {
            return await withCheckedContinuation { once.waiters[id, default: []].append($0) }
        }
        once.waiters[id] = []
        let outcome = await resolve(id)
        once.outcomes[id] = outcome
        for waiter in once.waiters.removeValue(forKey: id) ?? [] { waiter.resume(returning: outcome) }
        return outcome
    }
}

/// A ``ResolvesOnce`` actor's state: the outcomes so far, and who waits for one being resolved.
struct OnceEach<Outcome: Sendable> {
    /// Outcomes by key (set directly by a batch that resolved several at once).
    var outcomes: [Int64: Outcome] = [:]
    var waiters: [Int64: [CheckedContinuation<Outcome, Never>]] = [:]
}

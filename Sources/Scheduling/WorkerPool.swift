import Synchronization

/// Bounded concurrency over a list of work: `concurrency` child tasks, each taking the next item
/// until the list is done or a stop is requested.
///
/// Items are taken in order, so with one worker the work runs in list order, and with many the
/// oldest items start first. A stop request lets every worker finish the item it holds; task
/// cancellation (a second Ctrl-C) flows into `work` and is for `work` to honour.
public enum WorkerPool {
    /// Runs `work` over `items` with at most `concurrency` at once; returns when every worker has
    /// stopped. Returns how many items were started.
    @discardableResult
    public static func run<Item: Sendable>(
        _ items: [Item], concurrency: Int, stop: StopSignal, work: @escaping @Sendable (Item) async -> Void
    ) async -> Int {
        let next = Cursor()
        let width = max(1, min(concurrency, items.count))
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<width {
                group.addTask {
                    while !stop.isRequested, !Task.isCancelled {
                        let index = next.take()
                        guard index < items.count else { return }
                        await work(items[index])
                    }
                }
            }
        }
        return min(next.taken, items.count)
    }

    /// The index of the next item, shared by the workers.
    private final class Cursor: Sendable {
        private let next = Mutex(0)
        func take() -> Int { next.withLock { index in defer { index += 1 }; return index } }
        var taken: Int { next.withLock { $0 } }
    }
}

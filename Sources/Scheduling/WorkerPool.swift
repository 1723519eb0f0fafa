import Synchronization

/// Bounded concurrency over a stream of work: `concurrency` child tasks, each taking the next item
/// until the source is dry or a stop is requested.
///
/// Items are taken in order, so with one worker the work runs in source order, and with many the
/// oldest items start first. A stop request lets every worker finish the item it holds; task
/// cancellation (a second Ctrl-C) flows into `work` and is for `work` to honour.
package enum WorkerPool {
    /// Runs `work` over what `next` hands out (nil: no more) with at most `concurrency` at once;
    /// returns when every worker has stopped.
    package static func run<Item: Sendable>(
        concurrency: Int, stop: StopSignal,
        next: @escaping @Sendable () async -> Item?, work: @escaping @Sendable (Item) async -> Void
    ) async {
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<max(1, concurrency) {
                group.addTask {
                    while !stop.isRequested, !Task.isCancelled, let item = await next() {
                        await work(item)
                    }
                }
            }
        }
    }

    /// Runs `work` over `items`; returns how many items were started.
    @discardableResult
    package static func run<Item: Sendable>(
        _ items: [Item], concurrency: Int, stop: StopSignal, work: @escaping @Sendable (Item) async -> Void
    ) async -> Int {
        let cursor = Cursor()
        await run(
            concurrency: max(1, min(concurrency, items.count)), stop: stop,
            next: {
                let index = cursor.take()
                return index < items.count ? items[index] : nil
            }, work: work)
        return min(cursor.taken, items.count)
    }

    /// The index of the next item, shared by the workers.
    private final class Cursor: Sendable {
        private let next = Mutex(0)
        func take() -> Int {
            next.withLock { index in
                defer { index += 1 }
                return index
            }
        }
        var taken: Int { next.withLock { $0 } }
    }
}

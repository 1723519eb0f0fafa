import Synchronization
import Testing

@testable import Scheduling

@Suite("Worker pool and stop signal")
struct WorkerPoolTests {
    final class Probe: Sendable {
        let state = Mutex((running: 0, most: 0, done: [Int]()))
        func enter() {
            state.withLock {
                $0.running += 1
                $0.most = max($0.most, $0.running)
            }
        }
        func leave(_ item: Int) {
            state.withLock {
                $0.running -= 1
                $0.done.append(item)
            }
        }
    }

    @Test func neverMoreThanTheConcurrencyAtOnceAndEveryItemOnce() async {
        let probe = Probe()
        let started = await WorkerPool.run(Array(0..<200), concurrency: 7, stop: StopSignal()) { item in
            probe.enter()
            await Task.yield()
            probe.leave(item)
        }
        #expect(started == 200)
        let state = probe.state.withLock { $0 }
        #expect(state.most <= 7)
        #expect(state.most > 1)
        #expect(state.done.sorted() == Array(0..<200))
    }

    @Test func aStopLetsHeldItemsFinishAndStartsNoMore() async {
        let stop = StopSignal()
        let probe = Probe()
        let started = await WorkerPool.run(Array(0..<100), concurrency: 3, stop: stop) { item in
            probe.enter()
            if item == 10 { stop.request(.interrupted) }
            await Task.yield()
            probe.leave(item)
        }
        let done = probe.state.withLock { $0.done }
        #expect(started == done.count)
        #expect(done.count < 100)
        #expect(done.count >= 11)
    }

    @Test func theFirstStopReasonWins() {
        let stop = StopSignal()
        #expect(stop.request(.accessDenied("401")))
        #expect(!stop.request(.interrupted))
        #expect(stop.reason == .accessDenied("401"))
    }
}

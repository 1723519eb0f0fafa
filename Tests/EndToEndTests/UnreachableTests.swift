import Foundation
import Testing

/// The API goes away in the middle of a run: licprov stops after `--unreachable-timeout` with
/// exit 69 instead of spending every row's attempts on it, and a rerun finishes the file.
@Suite("The API going away mid-run")
struct UnreachableTests {
    @Test func aRunWhoseAPIGoesAwayStopsWith69AndResumes() async throws {
        let first = try EmulatorProcess(["--no-rate-limit", "--latency-ms", "40"])
        let scratch = try Scratch()
        defer { scratch.remove() }
        let file = try scratch.write("orders.csv", orderFile(600))
        let flags = [
            "--id-column", "order_id", "--rate", "0", "--concurrency", "2", "--progress", "none",
            "--unreachable-timeout", "2",
            "--retry-cap", "0.5", "--reconcile-delay", "0.2",
        ]
        let arguments = ["run", file, "--api-url", first.url] + flags
        async let outcome = BuiltBinaries.runOffPool("licprov", arguments, environment: RunCommandTests.token)
        // 600 rows at 40 ms and 2 at a time: 12 s at least, so the kill lands mid-run even when
        // this polling is held up on a loaded machine. The bound only keeps a broken build from
        // hanging: on a busy machine licprov itself may start late (a 60 s bound once killed the
        // emulator before licprov had sent anything), so the kill waits for 10 licenses, not a time.
        let deadline = ContinuousClock.now + .seconds(600)
        while try await first.counter("licensesCreated") < 10, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(5))
        }
        kill(first.process.processIdentifier, SIGKILL)
        let stopped = try await outcome
        #expect(stopped.status == 69, "\(stopped.stdout)\(stopped.stderr)")
        // (At least 2 s: silence is measured when a request fails, and workers may be waiting between requests.)
        #expect(stopped.stderr.contains(/the API has not answered for \d+ s/), "\(stopped.stderr)")
        #expect(stopped.stderr.contains("run the same command again"))
        let created = try #require(stopped.stdout.firstMatch(of: /created (\d+)/).flatMap { Int($0.1) })
        #expect(created >= 10 && created < 600, "\(stopped.stdout)")

        // Back (here: a new emulator): the rest, each once; nothing the first run confirmed is sent again.
        let second = try EmulatorProcess(["--no-rate-limit"])
        let resumed = try await BuiltBinaries.runOffPool(
            "licprov", ["run", file, "--api-url", second.url] + flags, environment: RunCommandTests.token)
        #expect(resumed.status == 0, "\(resumed.stdout)\(resumed.stderr)")
        #expect(resumed.stdout.contains("already done \(created)"), "\(resumed.stdout)")
        let markers = try await second.markers()
        #expect(markers.count == 600 - created)
        #expect(Set(markers).count == markers.count)
    }
}

import CryptlexEmulator
import Foundation
import Testing

@testable import Audit
@testable import Provisioning

/// `licprov report`: one self-contained page from the journal.
@Suite("The HTML report")
struct ReportTests {
    @Test func aReportShowsEachRunItsChartsAndTheFailuresWithTheirRows() async throws {
        try await withRunBench(
            EmulatorConfiguration(
                token: "test-token", products: ["prod-1"], rateLimit: nil,
                faults: FaultSettings(
                    rules: [
                        FaultRule(fault: .http500, count: 4, method: "POST"),
                        FaultRule(fault: .http429, count: 3, method: "POST", path: "/v3/licenses"),
                    ],
                    retryAfterSeconds: 0))
        ) { bench in
            try bench.write(ordersHeader + orders(30) + "<b>X-1</b>,prod-404,1\nX-2,prod-1,-9\n")
            let configuration = bench.configuration(idColumn: "order_id") { $0.skipInvalid = true }
            _ = try await bench.run(configuration)
            bench.clock.advance(by: .seconds(1))  // (the bench's time moves only when a run waits)
            _ = try await bench.run(configuration)  // a second run: nothing to do
            let html = try HTMLReport.render(journalPath: configuration.journalPath)
            #expect(html.hasPrefix("<!DOCTYPE html>"))
            #expect(html.contains("<h2>Run 1: finished with failures</h2>"))
            #expect(html.contains("<h2>Run 2: "))
            #expect(html.components(separatedBy: "<svg").count - 1 == 3)  // run 1's three charts; run 2 sent nothing
            #expect(html.contains("Licenses and changes settled (30)"))
            #expect(html.contains("Requests per 5 s ("))
            #expect(html.contains("limit 50 per 5 s"))
            // The three 429s to creates, on the chart and in the cards; said to be the sends' only.
            #expect(html.contains("429s and retries of sends per 5 s (3 and "), "\(html)")
            #expect(html.contains("<b>3</b>429s to sends"), "\(html)")
            #expect(html.contains("lookups are counted only in each run's totals"))
            // The failure by reason, with its row, escaped.
            #expect(html.contains("&lt;b&gt;X-1&lt;/b&gt;"))
            #expect(!html.contains("<b>X-1</b>"))
            #expect(html.contains("Product with id"))
            // Self-contained: no script, no stylesheet or image from elsewhere.
            for needle in ["<script", " src=", "href=", "url(", "@import"] {
                #expect(!html.contains(needle), "\(needle)")
            }
        }
    }
}

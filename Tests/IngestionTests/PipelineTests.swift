import Testing
@testable import Ingestion

/// The parallel stage must not change what a read reports: rows in file order, checks that span
/// rows (duplicates, unknown names) made across batch boundaries.
@Suite("Rows built in parallel batches come out in file order")
struct PipelineTests {
    static let rows = OrderFileReader.batchSize * 3 + 17

    @Test(arguments: ["csv", "ndjson", "json"])
    func orderAndCrossBatchDuplicatesSurviveTheParallelStage(format: String) throws {
        // Row n has order id n, except the last row, which repeats the id of row 1.
        func id(_ n: Int) -> String { n == Self.rows ? "ORD-1" : "ORD-\(n)" }
        var text: String
        switch format {
        case "csv":
            text = "order_id,productId,allowedActivations\n" + (1...Self.rows).map { "\(id($0)),p1,\($0 % 7)\n" }.joined()
        case "ndjson":
            text = (1...Self.rows).map { #"{"order_id":"\#(id($0))","productId":"p1","allowedActivations":\#($0 % 7)}"# + "\n" }.joined()
        default:
            text = "[\n" + (1...Self.rows).map { #"{"order_id":"\#(id($0))","productId":"p1","allowedActivations":\#($0 % 7),"colour":"x"}"# }.joined(separator: ",\n") + "\n]\n"
        }
        let result = try read("t.\(format)", text, IngestOptions(idColumn: "order_id"))
        #expect(result.rows.count == Self.rows)
        #expect(result.rows.map(\.position.ordinal) == Array(1...Self.rows))
        #expect(result.rows.map(\.request.allowedActivations) == (1...Self.rows).map { Int32($0 % 7) })
        let firstLine = format == "ndjson" ? 1 : 2
        #expect(result.rows.last?.diagnostics.map(\.message) == ["\"ORD-1\" is also the id of the row on line \(firstLine); ids must be unique"])
        if format == "json" {
            // An unknown field is reported once, at its first line, however many batches use it.
            #expect(result.summary.fileDiagnostics.map(\.line) == [2])
        }
    }

    @Test func parallelMapKeepsOrder() {
        let input = Array(0..<10_000)
        #expect(ParallelMap.map(input) { $0 * 2 } == input.map { $0 * 2 })
    }
}

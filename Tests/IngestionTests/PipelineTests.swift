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
            text =
                "order_id,productId,allowedActivations\n" + (1...Self.rows).map { "\(id($0)),p1,\($0 % 7)\n" }.joined()
        case "ndjson":
            text = (1...Self.rows).map {
                #"{"order_id":"\#(id($0))","productId":"p1","allowedActivations":\#($0 % 7)}"# + "\n"
            }.joined()
        default:
            text =
                "[\n"
                + (1...Self.rows).map {
                    #"{"order_id":"\#(id($0))","productId":"p1","allowedActivations":\#($0 % 7),"colour":"x"}"#
                }.joined(separator: ",\n") + "\n]\n"
        }
        let result = try read("t.\(format)", text, IngestOptions(idColumn: "order_id"))
        #expect(result.rows.count == Self.rows)
        #expect(result.rows.map(\.position.ordinal) == Array(1...Self.rows))
        #expect(result.rows.map(\.request.allowedActivations) == (1...Self.rows).map { Int32($0 % 7) })
        let firstLine = format == "ndjson" ? 1 : 2
        #expect(
            result.rows.last?.diagnostics.map(\.message) == [
                "\"ORD-1\" is also the id of the row on line \(firstLine); ids must be unique"
            ])
        if format == "json" {
            // An unknown field is reported once, at its first line, however many batches use it.
            #expect(result.summary.fileDiagnostics.map(\.line) == [2])
        }
    }

    @Test func aBatchNoWorkerTookIsBuiltByTheThreadThatWaitsForIt() throws {
        // With no worker task at all, wait() must build every slice itself, in order.
        var batch = RawBatch()
        for n in 1...600 {
            let line = Array(#"{"order_id":"ORD-\#(n)","productId":"p1","allowedActivations":\#(n % 9)}"#.utf8)
            let start = batch.bytes.count
            batch.bytes += line
            batch.rows.append(.ndjsonLine(start..<batch.bytes.count, line: n, ordinal: n))
        }
        let builder = RowBuilder(
            file: "t.ndjson", mapper: try RowMapper(file: "t.ndjson", defaults: []),
            options: IngestOptions(idColumn: "order_id"))
        let job = BuildJob(batch, builder: builder, tasks: 0)
        job.wait()
        let rows = (0..<job.count).map { job.output[$0].row }
        #expect(rows.map(\.rowID) == (1...600).map { "ORD-\($0)" })
        #expect(rows.map(\.request.allowedActivations) == (1...600).map { Int32($0 % 9) })
        #expect(rows.allSatisfy { $0.isValid })
        #expect((0..<job.count).allSatisfy { job.output[$0].idHash == DuplicateTracker.hash("ORD-\($0 + 1)") })
    }

    @Test func theDuplicateTrackerFindsEveryRepeatAcrossGrowingTables() {
        // 300,000 values grow every one of the 64 tables several times over.
        var tracker = DuplicateTracker()
        for n in 0..<300_000 {
            #expect(tracker.insert(hash: DuplicateTracker.hash("KEY-\(n)"), line: n + 2) == nil)
        }
        #expect(tracker.count == 300_000)
        for n in stride(from: 0, to: 300_000, by: 997) {
            #expect(
                tracker.insert(hash: DuplicateTracker.hash("KEY-\(n)"), line: 400_000) == n + 2,
                "the line where the value was first seen")
        }
        #expect(tracker.insert(hash: DuplicateTracker.hash("KEY-300000"), line: 400_001) == nil)
        #expect(tracker.count == 300_001)
    }
}

import CryptlexAPI
import Testing

@testable import APIRequests
@testable import Provisioning

@Suite("Batches of values for `in` filters")
struct ValueBatchesTests {
    @Test func atMostAHundredValuesABatchInOrderEachOnce() {
        let values = (0..<250).map { "v\($0)" } + ["v3", "v7"]
        let (batches, alone) = ValueBatches.split(values)
        #expect(batches.map(\.count) == [100, 100, 50])
        #expect(batches.joined().elementsEqual((0..<250).map { "v\($0)" }))
        #expect(alone.isEmpty)
    }

    @Test func theURLBudgetCountsEscapedCharactersAndCommas() {
        // 30 é escape to 6 characters each (180), plus the index and the comma: 32 fit under 6,000.
        let wide = (0..<40).map { index in String(repeating: "é", count: 30) + "\(index)" }
        let (batches, _) = ValueBatches.split(wide)
        #expect(batches.count == 2)
        for batch in batches {
            let cost = batch.reduce(0) { $0 + QueryLength.escaped($1) + 3 }
            #expect(cost <= ValueBatches.maxQueryCharacters)
        }
        #expect(batches[0].count + batches[1].count == 40)
    }

    @Test func valuesWithACommaOrEmptyGoAlone() {
        let (batches, alone) = ValueBatches.split(["a", "b,c", "", "d", "b,c"])
        #expect(batches == [["a", "d"]])
        #expect(alone == ["b,c", ""])
    }
}

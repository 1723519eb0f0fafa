import Foundation
import Testing
@testable import Provisioning

@Suite("Markers for new entries")
struct MarkerGeneratorTests {
    @Test func markersAreVersion7UUIDsInLowerCaseAfterTheirPrefixInTimeOrder() {
        var generator = MarkerGenerator()
        var seen = Set<String>()
        var previousTime = ""
        let before = String(UInt64(Date().timeIntervalSince1970 * 1000), radix: 16)
        for _ in 0..<10_000 {
            let marker = generator.next(prefix: "lp-abc-")
            #expect(marker.hasPrefix("lp-abc-"))
            let uuid = String(marker.dropFirst(7))
            #expect(uuid.range(of: #"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"#, options: .regularExpression) != nil, "\(uuid)")
            #expect(UUID(uuidString: uuid)?.uuidString.lowercased() == uuid)
            seen.insert(marker)
            // The first 12 hex digits are the time in milliseconds: never earlier than the last.
            let time = String(uuid.replacingOccurrences(of: "-", with: "").prefix(12))
            #expect(time >= previousTime && time >= before.leftPadded(12))
            previousTime = time
        }
        #expect(seen.count == 10_000)
    }

    @Test func twoGeneratorsDoNotRepeatEachOther() {
        var first = MarkerGenerator(), second = MarkerGenerator()
        let a = Set((0..<1_000).map { _ in first.next() }), b = Set((0..<1_000).map { _ in second.next() })
        #expect(a.isDisjoint(with: b))
    }
}

private extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}

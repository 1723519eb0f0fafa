import Foundation
import Testing

@testable import Provisioning

@Suite("Markers for new entries")
struct MarkerGeneratorTests {
    static let lowerHex = Set("0123456789abcdef".utf8)

    @Test func markersAreVersion7UUIDsInLowerCaseAfterTheirPrefixInTimeOrder() {
        var generator = MarkerGenerator()
        var seen = Set<String>()
        var previousTime = ""
        let before = String(UInt64(Date().timeIntervalSince1970 * 1000), radix: 16)
        for _ in 0..<10_000 {
            let marker = generator.next(prefix: "lp-abc-")
            #expect(marker.hasPrefix("lp-abc-"))
            let uuid = String(marker.dropFirst(7))
            // (Checked by bytes, not a regular expression: 10,000 of those held a test thread for
            // half a minute in a debug build and starved the other suites on two cores.)
            let bytes = Array(uuid.utf8)
            #expect(bytes.count == 36 && [8, 13, 18, 23].allSatisfy { bytes[$0] == UInt8(ascii: "-") }, "\(uuid)")
            #expect(
                bytes.enumerated().allSatisfy {
                    [8, 13, 18, 23].contains($0.offset) || Self.lowerHex.contains($0.element)
                }, "\(uuid)")
            #expect(bytes[14] == UInt8(ascii: "7") && "89ab".utf8.contains(bytes[19]), "\(uuid)")
            seen.insert(marker)
            // The first 12 hex digits are the time in milliseconds: never earlier than the last.
            let time = String(uuid.replacingOccurrences(of: "-", with: "").prefix(12))
            #expect(time >= previousTime && time >= before.leftPadded(12))
            previousTime = time
        }
        #expect(seen.count == 10_000)
        #expect(UUID(uuidString: String(generator.next().prefix(36)))?.uuidString.lowercased() != nil)
    }

    @Test func twoGeneratorsDoNotRepeatEachOther() {
        var first = MarkerGenerator()
        var second = MarkerGenerator()
        let a = Set((0..<1_000).map { _ in first.next() })
        let b = Set((0..<1_000).map { _ in second.next() })
        #expect(a.isDisjoint(with: b))
    }
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}

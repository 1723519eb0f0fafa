import Foundation
import Testing

@testable import CryptlexEmulator

/// Inputs the fuzzers (scripts/fuzz.sh) found, kept so that they stay fixed.
@Suite("Fuzz regressions: the emulator")
struct EmulatorFuzzRegressionTests {
    /// `111e911` (found by `fuzz.sh emulator`): a number beyond a double's range parsed as
    /// infinity and went out again as `null`. It is invalid JSON to the emulator now, as it is to
    /// a .NET server; numbers in range still parse and round-trip.
    @Test(arguments: ["111e911", "-1e400", #"{"allowedActivations":1e309}"#, "[1,2,9e99999]"])
    func aNumberBeyondADoublesRangeIsNotJSON(text: String) {
        #expect(JSONValue.parse(Array(text.utf8)) == nil)
    }

    @Test(arguments: ["1e308", "-0.0", "123456789012345678901234567890", "[2.5e-300,7]"])
    func numbersInRangeSurviveSerialising(text: String) throws {
        let value = try #require(JSONValue.parse(Array(text.utf8)))
        #expect(JSONValue.parse(value.serialized()) == value)
    }
}

import Testing

@testable import Journal

/// The fingerprint is part of the journal's format: a row's fingerprint must come out as the one
/// an earlier release stored, or every row of a rerun would look edited.
@Suite("Body fingerprints")
struct BodyFingerprintTests {
    @Test func theFingerprintIsTheOneEarlierReleasesWrote() {
        // Row C-1 of the journal licprov 0.2.0 wrote (Tests/EndToEndTests/Fixtures/journal-0.2.0):
        // a revoke, its target and its body.
        let c1 =
            Array("revoke".utf8) + [0] + Array(#"{"key":"COMPAT-KEY-00010"}"#.utf8) + [0]
            + Array(#"{"revoked":true}"#.utf8)
        #expect(BodyFingerprint.value(c1).hex == "c4ba7ec008b1dfd622a4c3c7cc0469ef")
        #expect(BodyFingerprint.value([]).hex == "cbf29ce4842223256c62272e07bb0142")
    }

    @Test func theJournalsTextReadsBackAsTheSameValue() {
        for bytes in [[], Array("a".utf8), Array(repeating: UInt8(7), count: 1_000)] {
            let value = BodyFingerprint.value(bytes)
            #expect(BodyFingerprint.Value(hex: value.hex) == value)
        }
        let leadingZeros = BodyFingerprint.Value(a: 1, b: 0)
        #expect(leadingZeros.hex == "00000000000000010000000000000000")
        #expect(BodyFingerprint.Value(hex: leadingZeros.hex) == leadingZeros)
        for text in [
            "", "not hex", "87f8709c7546a6be01ee1c806efddbf", "87f8709c7546a6be01ee1c806efddbffa",
            "87f8709c7546a6be01ee1c806efddbfg",
        ] {
            #expect(BodyFingerprint.Value(hex: text) == nil, "\(text)")
        }
    }
}

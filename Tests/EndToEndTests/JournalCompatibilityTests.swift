import Foundation
import Testing

/// A journal written by an earlier release resumes with this one, exactly once
/// (Fixtures/journal-0.2.0: three creates and six changes, all pending).
@Suite("journals of earlier releases", .serialized)
struct JournalCompatibilityTests {
    static let fixture = BuiltBinaries.packageRoot.appendingPathComponent("Tests/EndToEndTests/Fixtures/journal-0.2.0")

    @Test func aJournalWrittenByLicprov020ResumesExactlyOnce() async throws {
        let emulator = try EmulatorProcess(["--no-rate-limit", "--seed", "20"])
        let scratch = try Scratch()
        defer { scratch.remove() }
        // The licenses the change rows name by key.
        for key in ["COMPAT-KEY-00010", "COMPAT-KEY-00012", "COMPAT-KEY-00013", "COMPAT-KEY-00014", "COMPAT-KEY-00015"] {
            #expect(try await AuditUndoTests.call(emulator, "POST", "/v3/licenses", #"{"productId":"prod-1","key":"\#(key)"}"#) == 201)
        }
        #expect(try await AuditUndoTests.call(emulator, "POST", "/v3/licenses",
                                              #"{"productId":"prod-1","key":"COMPAT-KEY-00011","subscriptionInterval":"P1Y","expiresAt":"2030-01-01T00:00:00Z"}"#) == 201)
        // C-6 is edited after the journal was written and before anything was sent: it goes as
        // the row says now (revoke), and is reported so; 0.2.0 sent the new body under the old
        // action and reported a revoke as "suspended".
        let orders = try String(contentsOf: Self.fixture.appendingPathComponent("orders.csv"), encoding: .utf8)
        #expect(orders.contains("C-6,suspend,,COMPAT-KEY-00015,,"))
        let file = try scratch.write("orders.csv", orders.replacingOccurrences(of: "C-6,suspend,,COMPAT-KEY-00015,,", with: "C-6,revoke,,COMPAT-KEY-00015,,"))
        try FileManager.default.copyItem(atPath: Self.fixture.appendingPathComponent("orders.csv.licprov.sqlite").path, toPath: file + ".licprov.sqlite")

        let arguments = ["run", file, "--id-column", "order_id", "--api-url", emulator.url, "--rate", "0"]
        let run = try await BuiltBinaries.runOffPool("licprov", arguments, environment: RunCommandTests.token)
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")

        let licenses = try await emulator.admin("licenses") as? [[String: Any]] ?? []
        let byKey = Dictionary(licenses.compactMap { license in (license["key"] as? String).map { ($0, license) } }) { first, _ in first }
        let orderIDs = licenses.compactMap { license in
            (license["metadata"] as? [[String: Any]])?.first { $0["key"] as? String == "order_id" }?["value"] as? String
        }
        #expect(orderIDs.sorted() == ["O-1", "O-2", "O-3"])
        #expect(licenses.count == 3 + 5, "three created, COMPAT-KEY-00014 deleted")
        #expect(byKey["COMPAT-KEY-00010"]?["revoked"] as? Bool == true)
        #expect((byKey["COMPAT-KEY-00011"]?["expiresAt"] as? String)?.hasPrefix("2031-01-01T00:00:00") == true, "renewed by a year")
        #expect((byKey["COMPAT-KEY-00012"]?["expiresAt"] as? String)?.hasPrefix("2031-01-01T00:00:00") == true)
        #expect(byKey["COMPAT-KEY-00013"]?["allowedActivations"] as? Int == 7)
        #expect(byKey["COMPAT-KEY-00014"] == nil)
        #expect(byKey["COMPAT-KEY-00015"]?["revoked"] as? Bool == true)
        #expect(byKey["COMPAT-KEY-00015"]?["suspended"] as? Bool == false)

        // The results: each row as what it did.
        let results = try scratch.read("orders.csv.results.csv").split(separator: "\r\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        let header = try #require(results.first)
        let row = try #require(header.firstIndex(of: "row_id")), status = try #require(header.firstIndex(of: "status"))
        let action = try #require(header.firstIndex(of: "action"))
        let outcome = Dictionary(uniqueKeysWithValues: results.dropFirst().map { ($0[row], "\($0[status]) \($0[action])") })
        #expect(outcome == ["O-1": "created create", "O-2": "created create", "O-3": "created create", "C-1": "revoked revoke",
                            "C-2": "renewed renew", "C-3": "expiry set set-expiry", "C-4": "updated update", "C-5": "deleted delete",
                            "C-6": "revoked revoke"])

        // A rerun sends no create and no change.
        let counters = try await emulator.admin("counters") as? [String: Any] ?? [:]
        let again = try await BuiltBinaries.runOffPool("licprov", arguments, environment: RunCommandTests.token)
        #expect(again.status == 0, "\(again.stdout)\(again.stderr)")
        let after = try await emulator.admin("counters") as? [String: Any] ?? [:]
        for name in ["licenseCreateRequests", "licenseUpdates", "licenseRenewals", "licenseExpiryChanges", "licensesDeleted"] {
            #expect(after[name] as? Int == counters[name] as? Int, "\(name)")
        }
    }
}

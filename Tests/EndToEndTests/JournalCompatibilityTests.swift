import Foundation
import Testing

/// A journal written by an earlier release resumes with this one, exactly once
/// (Fixtures/journal-0.2.0: three creates and six changes, all pending; Fixtures/journal-v8: the
/// last journal with bodies, before typed operations, in every state a run leaves).
@Suite("journals of earlier releases", .serialized)
struct JournalCompatibilityTests {
    static let fixture = BuiltBinaries.packageRoot.appendingPathComponent("Tests/EndToEndTests/Fixtures/journal-0.2.0")
    static let fixtureV8 = BuiltBinaries.packageRoot.appendingPathComponent("Tests/EndToEndTests/Fixtures/journal-v8")

    /// The v8 journal (commit b48e180, Fixtures/journal-v8/generate.sh): O-1 and O-2 created (with
    /// their customers and Acme, resolved, on an emulator long gone), O-2's row edited since, O-3
    /// sent and never answered (in flight), O-4's two licenses, an update that links its license to
    /// a new customer, and a suspend, pending. Migrated to typed operations, it resumes exactly once:
    /// nothing settled is sent, O-3 is found by its marker, the rest are sent once with the
    /// customers and the organization resolved now; the edited row's difference is the field that
    /// changed, not a placeholder; a rerun sends nothing.
    @Test func aJournalWrittenBeforeTypedOperationsResumesExactlyOnce() async throws {
        let emulator = try EmulatorProcess(["--no-rate-limit", "--seed", "21"])
        let scratch = try Scratch()
        defer { scratch.remove() }
        // O-3's license, made by the send whose answer was lost; the licenses the changes name.
        let o3Marker = "lp-9dad4d77ac90-01a249f1-c6f3-7771-87a2-7fe270a91f56"
        #expect(
            try await AuditUndoTests.call(
                emulator, "POST", "/v3/licenses",
                #"""
                {"productId":"prod-1","allowedActivations":1,"metadata":[{"key":"order_id","value":"O-3"},{"key":"licprov_request","value":"\#(o3Marker)"}]}
                """#) == 201)
        #expect(
            try await AuditUndoTests.call(
                emulator, "POST", "/v3/licenses",
                #"{"productId":"prod-1","key":"COMPAT-V8-KEY-00001","allowedActivations":1}"#) == 201)
        #expect(
            try await AuditUndoTests.call(
                emulator, "POST", "/v3/licenses", #"{"productId":"prod-1","key":"COMPAT-V8-KEY-00002"}"#) == 201)
        let file = try scratch.write(
            "orders.csv", try String(contentsOf: Self.fixtureV8.appendingPathComponent("orders.csv"), encoding: .utf8))
        try FileManager.default.copyItem(
            atPath: Self.fixtureV8.appendingPathComponent("orders.csv.licprov.sqlite").path,
            toPath: file + ".licprov.sqlite")
        let before = try await emulator.admin("counters") as? [String: Any] ?? [:]

        let arguments = ["run", file, "--id-column", "order_id", "--api-url", emulator.url, "--rate", "0"]
        let run = try await BuiltBinaries.runOffPool("licprov", arguments, environment: RunCommandTests.token)
        #expect([0, 1].contains(run.status), "\(run.stdout)\(run.stderr)")

        let after = try await emulator.admin("counters") as? [String: Any] ?? [:]
        #expect(
            (after["licenseCreateRequests"] as? Int ?? 0) - (before["licenseCreateRequests"] as? Int ?? 0) == 2,
            "O-4's two, nothing else")
        let licenses = try await emulator.admin("licenses") as? [[String: Any]] ?? []
        func order(_ license: [String: Any]) -> String? {
            (license["metadata"] as? [[String: Any]])?.first { $0["key"] as? String == "order_id" }?["value"] as? String
        }
        #expect(licenses.compactMap(order).sorted() == ["O-3", "O-4", "O-4"])
        let users = try await emulator.admin("users") as? [[String: Any]] ?? []
        let userIDs = Dictionary(
            users.compactMap { user in (user["email"] as? String).map { ($0, user["id"] as? String ?? "") } }
        ) { first, _ in first }
        let organizations = try await emulator.admin("organizations") as? [[String: Any]] ?? []
        let globex = organizations.first { $0["name"] as? String == "Globex" }?["id"] as? String
        #expect(globex != nil && organizations.count == 1, "Globex made once; Acme's licenses are settled")
        for license in licenses where order(license) == "O-4" {
            #expect(license["userId"] as? String == userIDs["d@example.com"])
            #expect(license["organizationId"] as? String == globex)
            #expect(license["allowedActivations"] as? Int == 3)
        }
        let byKey = Dictionary(licenses.compactMap { license in (license["key"] as? String).map { ($0, license) } }) {
            first, _ in first
        }
        #expect(byKey["COMPAT-V8-KEY-00001"]?["allowedActivations"] as? Int == 7)
        #expect(
            byKey["COMPAT-V8-KEY-00001"]?["userId"] as? String == userIDs["e@example.com"],
            "the update linked its customer, made now")
        #expect(byKey["COMPAT-V8-KEY-00002"]?["suspended"] as? Bool == true)

        let text = try scratch.read("orders.csv.results.csv")
        let results = text.split(separator: "\r\n").map {
            $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        }
        let header = try #require(results.first)
        let row = try #require(header.firstIndex(of: "row_id"))
        let status = try #require(header.firstIndex(of: "status"))
        let statuses = results.dropFirst().map { "\($0[row]) \($0[status])" }
        #expect(
            statuses == [
                "O-1 created", "O-2 conflict", "O-3 recovered", "O-4 created", "O-4 created", "C-1 updated",
                "C-2 suspended",
            ])
        let edited = try #require(text.split(separator: "\r\n").first { $0.contains(",O-2,1,") })
        #expect(edited.contains(#"Changed: allowedActivations 2 → 5",create"#), "\(edited)")

        let counters = try await emulator.admin("counters") as? [String: Any] ?? [:]
        let again = try await BuiltBinaries.runOffPool("licprov", arguments, environment: RunCommandTests.token)
        #expect(again.status == run.status, "\(again.stdout)\(again.stderr)")
        let last = try await emulator.admin("counters") as? [String: Any] ?? [:]
        for name in ["licenseCreateRequests", "licenseUpdates", "usersCreated", "organizationsCreated"] {
            #expect(last[name] as? Int == counters[name] as? Int, "\(name)")
        }
    }

    @Test func aJournalWrittenByLicprov020ResumesExactlyOnce() async throws {
        let emulator = try EmulatorProcess(["--no-rate-limit", "--seed", "20"])
        let scratch = try Scratch()
        defer { scratch.remove() }
        // The licenses the change rows name by key.
        for key in ["COMPAT-KEY-00010", "COMPAT-KEY-00012", "COMPAT-KEY-00013", "COMPAT-KEY-00014", "COMPAT-KEY-00015"]
        {
            #expect(
                try await AuditUndoTests.call(
                    emulator, "POST", "/v3/licenses", #"{"productId":"prod-1","key":"\#(key)"}"#) == 201)
        }
        #expect(
            try await AuditUndoTests.call(
                emulator, "POST", "/v3/licenses",
                #"{"productId":"prod-1","key":"COMPAT-KEY-00011","subscriptionInterval":"P1Y","expiresAt":"2030-01-01T00:00:00Z"}"#
            ) == 201)
        // C-6 is edited after the journal was written and before anything was sent: it goes as
        // the row says now (revoke), and is reported so; 0.2.0 sent the new body under the old
        // action and reported a revoke as "suspended".
        let orders = try String(contentsOf: Self.fixture.appendingPathComponent("orders.csv"), encoding: .utf8)
        #expect(orders.contains("C-6,suspend,,COMPAT-KEY-00015,,"))
        let file = try scratch.write(
            "orders.csv",
            orders.replacingOccurrences(of: "C-6,suspend,,COMPAT-KEY-00015,,", with: "C-6,revoke,,COMPAT-KEY-00015,,"))
        try FileManager.default.copyItem(
            atPath: Self.fixture.appendingPathComponent("orders.csv.licprov.sqlite").path,
            toPath: file + ".licprov.sqlite")

        let arguments = ["run", file, "--id-column", "order_id", "--api-url", emulator.url, "--rate", "0"]
        let run = try await BuiltBinaries.runOffPool("licprov", arguments, environment: RunCommandTests.token)
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")

        let licenses = try await emulator.admin("licenses") as? [[String: Any]] ?? []
        let byKey = Dictionary(licenses.compactMap { license in (license["key"] as? String).map { ($0, license) } }) {
            first, _ in first
        }
        let orderIDs = licenses.compactMap { license in
            (license["metadata"] as? [[String: Any]])?.first { $0["key"] as? String == "order_id" }?["value"] as? String
        }
        #expect(orderIDs.sorted() == ["O-1", "O-2", "O-3"])
        #expect(licenses.count == 3 + 5, "three created, COMPAT-KEY-00014 deleted")
        #expect(byKey["COMPAT-KEY-00010"]?["revoked"] as? Bool == true)
        #expect(
            (byKey["COMPAT-KEY-00011"]?["expiresAt"] as? String)?.hasPrefix("2031-01-01T00:00:00") == true,
            "renewed by a year")
        #expect((byKey["COMPAT-KEY-00012"]?["expiresAt"] as? String)?.hasPrefix("2031-01-01T00:00:00") == true)
        #expect(byKey["COMPAT-KEY-00013"]?["allowedActivations"] as? Int == 7)
        #expect(byKey["COMPAT-KEY-00014"] == nil)
        #expect(byKey["COMPAT-KEY-00015"]?["revoked"] as? Bool == true)
        #expect(byKey["COMPAT-KEY-00015"]?["suspended"] as? Bool == false)

        // The results: each row as what it did.
        let results = try scratch.read("orders.csv.results.csv").split(separator: "\r\n").map {
            $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        }
        let header = try #require(results.first)
        let row = try #require(header.firstIndex(of: "row_id"))
        let status = try #require(header.firstIndex(of: "status"))
        let action = try #require(header.firstIndex(of: "action"))
        let outcome = Dictionary(
            uniqueKeysWithValues: results.dropFirst().map { ($0[row], "\($0[status]) \($0[action])") })
        #expect(
            outcome == [
                "O-1": "created create", "O-2": "created create", "O-3": "created create", "C-1": "revoked revoke",
                "C-2": "renewed renew", "C-3": "expiry set set-expiry", "C-4": "updated update",
                "C-5": "deleted delete",
                "C-6": "revoked revoke",
            ])

        // A rerun sends no create and no change.
        let counters = try await emulator.admin("counters") as? [String: Any] ?? [:]
        let again = try await BuiltBinaries.runOffPool("licprov", arguments, environment: RunCommandTests.token)
        #expect(again.status == 0, "\(again.stdout)\(again.stderr)")
        let after = try await emulator.admin("counters") as? [String: Any] ?? [:]
        for name in [
            "licenseCreateRequests", "licenseUpdates", "licenseRenewals", "licenseExpiryChanges", "licensesDeleted",
        ] {
            #expect(after[name] as? Int == counters[name] as? Int, "\(name)")
        }
    }
}

import Foundation
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Orders as they arrive, over the built binaries against the emulator: a reseller's workbook
/// with only a profile written for it, and other systems' exports.
@Suite("Orders as they arrive, end to end", .serialized)
struct InputsEndToEndTests {
    static func licprov(_ arguments: [String]) async throws -> BuiltBinaries.Outcome {
        try await BuiltBinaries.runOffPool("licprov", arguments, environment: RunCommandTests.token)
    }

    static func licenses(_ emulator: EmulatorProcess) async throws -> [[String: Any]] {
        try await emulator.admin("licenses") as? [[String: Any]] ?? []
    }

    static func metadata(_ license: [String: Any], _ key: String) -> String? {
        (license["metadata"] as? [[String: Any]])?.first { $0["key"] as? String == key }?["value"] as? String
    }

    /// Acme's sheet: its own headers, plan names and dd/MM/yyyy dates, read with nothing but
    /// samples/reseller-acme.toml — keys, users, templates and dates right.
    @Test func aResellersWorkbookProvisionsWithOnlyAProfile() async throws {
        let emulator = try EmulatorProcess(["--product", "prod-desktop", "--no-rate-limit"])
        let scratch = try Scratch()
        defer { scratch.remove() }
        let sheet = scratch.path + "/acme.xlsx"
        try FileManager.default.copyItem(
            atPath: BuiltBinaries.packageRoot.path + "/samples/reseller-acme.xlsx", toPath: sheet)
        let profile = BuiltBinaries.packageRoot.path + "/samples/reseller-acme.toml"

        // Without the profile the sheet is refused, column by column.
        let refused = try await Self.licprov(["validate", sheet, "--product-id", "prod-desktop"])
        #expect(refused.status == 65)
        #expect(refused.stdout.contains("acme.xlsx:1: Customer Email: is not a license field"))

        let validated = try await Self.licprov(["validate", sheet, "--config", profile])
        #expect(validated.status == 0, "\(validated.stdout)")
        #expect(validated.stdout.contains("4 rows, 4 valid, 4 licenses to create, 0 errors"))

        let run = try await Self.licprov([
            "run", sheet, "--config", profile, "--api-url", emulator.url, "--rate", "0", "--results-columns", "input",
            "--json",
        ])
        #expect(run.status == 0, "\(run.stderr)")
        let licenses = try await Self.licenses(emulator)
        #expect(licenses.count == 4)
        let byOrder = Dictionary(uniqueKeysWithValues: licenses.map { (Self.metadata($0, "order_id") ?? "", $0) })
        #expect(byOrder["ACME-1001"]?["licenseTemplateId"] as? String == "tmpl-pro")
        #expect(byOrder["ACME-1002"]?["licenseTemplateId"] as? String == "tmpl-basic")
        #expect(byOrder["ACME-1003"]?["licenseTemplateId"] as? String == "tmpl-pro")  // " pro " in the sheet
        #expect(byOrder["ACME-1004"]?["licenseTemplateId"] as? String == "tmpl-team")
        #expect(byOrder["ACME-1001"]?["allowedActivations"] as? Int == 2)
        // 03/11/2027, day first.
        #expect((byOrder["ACME-1001"]?["expiresAt"] as? String)?.hasPrefix("2027-11-03T00:00:00") == true)
        #expect((byOrder["ACME-1003"]?["expiresAt"] as? String)?.hasPrefix("2027-12-31T00:00:00") == true)
        #expect(byOrder["ACME-1001"].map { Self.metadata($0, "purchased") } == "03/11/2026")
        #expect(byOrder["ACME-1001"].map { Self.metadata($0, "plan") } == "pro")
        let users = try await emulator.admin("users") as? [[String: Any]] ?? []
        #expect(users.count == 4)
        let ana = users.first { $0["email"] as? String == "ana.silva@example.com" }
        #expect(ana?["firstName"] as? String == "Ana" && ana?["lastName"] as? String == "Silva")
        #expect(byOrder["ACME-1001"]?["userId"] as? String == ana?["id"] as? String)
        // The results file has the sheet's own columns first, then the keys.
        let results = try scratch.read("acme.xlsx.results.csv").replacingOccurrences(of: "\r\n", with: "\n")
        #expect(
            results.hasPrefix(
                "Order No,Customer Email,First Name,Last Name,Company,Seats,Plan,Purchase Date,Renewal Date,status,license_key,license_id,message\n"
            ))
        #expect(
            results.contains(
                "ACME-1001,ana.silva@example.com,Ana,Silva,Silva Design,2,Pro,03/11/2026,03/11/2027,created,"))
        // A rerun sends nothing.
        let before = try await emulator.counter("licenseCreateRequests")
        #expect(
            try await Self.licprov(["run", sheet, "--config", profile, "--api-url", emulator.url, "--rate", "0"]).status
                == 0)
        #expect(try await emulator.counter("licenseCreateRequests") == before)
    }

    /// A problem in a workbook is named by its cell; a dry run reads the sheet too.
    @Test func workbookProblemsNameTheirCell() async throws {
        let cells = BuiltBinaries.packageRoot.path + "/Tests/IngestionTests/Resources/cells.xlsx"
        let outcome = try await Self.licprov(["validate", cells, "--id-column", "order_id", "--time-zone", "UTC"])
        #expect(outcome.status == 65)
        #expect(outcome.stdout.contains("cells.xlsx:Orders!C4: allowedActivations: must be a whole number, not 1.5"))
        let archive = try await Self.licprov([
            "run", cells, "--sheet", "Archive", "--id-column", "order_id", "--dry-run",
        ])
        #expect(archive.status == 0, "\(archive.stderr)")
        #expect(archive.stdout.contains("\"productId\":\"prod-2\""))
    }

    /// A Keygen license list: keys kept, users linked from "included", templates by policy, the
    /// product by a table, expiries and suspension exact, the Keygen id kept.
    @Test func aKeygenExportMovesWithItsKeys() async throws {
        let emulator = try EmulatorProcess(["--product", "prod-desktop", "--no-rate-limit"])
        let scratch = try Scratch()
        defer { scratch.remove() }
        let export = scratch.path + "/keygen.json"
        try FileManager.default.copyItem(
            atPath: BuiltBinaries.packageRoot.path + "/samples/keygen-export.json", toPath: export)
        let run = try await Self.licprov([
            "run", export, "--from", "keygen", "--config", BuiltBinaries.packageRoot.path + "/samples/keygen.toml",
            "--api-url", emulator.url, "--rate", "0",
        ])
        #expect(run.status == 0, "\(run.stderr)\(run.stdout)")
        let licenses = try await Self.licenses(emulator)
        #expect(
            Set(licenses.compactMap { $0["key"] as? String }) == [
                "KG-8F3A-27D1-C9E4-5B60-A1F2", "KG-1C77-90AB-44E2-D3F8-7E91", "KG-55E0-1B2C-3D4E-5F60-7182",
            ])
        let byKey = Dictionary(uniqueKeysWithValues: licenses.map { ($0["key"] as? String ?? "", $0) })
        let ana = byKey["KG-8F3A-27D1-C9E4-5B60-A1F2"]
        #expect(ana?["licenseTemplateId"] as? String == "tmpl-pro")
        #expect(ana?["productId"] as? String == "prod-desktop")
        #expect(ana?["allowedActivations"] as? Int == 3)
        #expect((ana?["expiresAt"] as? String)?.hasPrefix("2027-06-30T00:00:00") == true)
        #expect((ana?["createdAt"] as? String)?.hasPrefix("2024-06-30T09:12:44") == true)
        #expect(ana.map { Self.metadata($0, "keygen_id") } == "b7e3c1a2-5f2e-4c1a-9a3e-1d2f3a4b5c6d")
        #expect(ana.map { Self.metadata($0, "orderId") } == "SHOP-5001")
        let ben = byKey["KG-1C77-90AB-44E2-D3F8-7E91"]
        #expect(ben?["licenseTemplateId"] as? String == "tmpl-basic")
        #expect(ben?["suspended"] as? Bool == true)
        let users = try await emulator.admin("users") as? [[String: Any]] ?? []
        #expect(
            Set(users.compactMap { $0["email"] as? String }) == ["ana.silva@example.com", "ben.okafor@example.com"])
        #expect(
            ana?["userId"] as? String == users.first { $0["email"] as? String == "ana.silva@example.com" }?["id"]
                as? String)
        // No owner: the emulator writes no userId, or an empty one.
        let owner = byKey["KG-55E0-1B2C-3D4E-5F60-7182"]?["userId"] as? String
        #expect(byKey["KG-55E0-1B2C-3D4E-5F60-7182"] != nil)
        #expect(owner == nil || owner == "", "\(owner ?? "")")
    }

    /// An account moved with `GET /v3/licenses` (to another region, from staging): every field the
    /// create accepts, customers by email, metadata but licprov's own marker, the product by a table.
    @Test func aCryptlexExportMovesToAnotherAccount() async throws {
        let source = try EmulatorProcess(["--no-rate-limit"])
        let target = try EmulatorProcess(["--product", "prod-eu", "--no-rate-limit"])
        let scratch = try Scratch()
        defer { scratch.remove() }
        let orders = try scratch.write(
            "orders.csv",
            """
            order_id,productId,key,email,firstName,allowedActivations,expiresAt,subscriptionInterval,notes,tags,metadata.plan
            M-1,prod-us,MOVE-KEY-0000-0001,ana@example.com,Ana,3,2027-06-30T12:00:00Z,P1Y,first,a|b,pro
            M-2,prod-us,MOVE-KEY-0000-0002,,,1,,,second,,basic

            """)
        #expect(
            try await Self.licprov(["run", orders, "--id-column", "order_id", "--api-url", source.url, "--rate", "0"])
                .status == 0)
        // The export: what GET /v3/licenses answers, as a backup would hold it.
        var request = URLRequest(url: URL(string: source.url + "/v3/licenses?limit=100")!)
        request.setValue("Bearer e2e-token", forHTTPHeaderField: "Authorization")
        let (data, _) = try await URLSession.shared.data(for: request)
        let export = scratch.path + "/licenses.json"
        try data.write(to: URL(fileURLWithPath: export))
        let profile = try scratch.write("move.toml", "[values.productId]\nprod-us = { productId = \"prod-eu\" }\n")

        let moved = try await Self.licprov([
            "run", export, "--from", "cryptlex", "--config", profile, "--api-url", target.url, "--rate", "0",
        ])
        #expect(moved.status == 0, "\(moved.stderr)\(moved.stdout)")
        let sourceLicenses = try await Self.licenses(source)
        let licenses = try await Self.licenses(target)
        #expect(licenses.count == 2)
        let byKey = Dictionary(uniqueKeysWithValues: licenses.map { ($0["key"] as? String ?? "", $0) })
        let first = try #require(byKey["MOVE-KEY-0000-0001"])
        #expect(first["productId"] as? String == "prod-eu")
        #expect(first["allowedActivations"] as? Int == 3)
        #expect(
            first["expiresAt"] as? String == sourceLicenses.first { $0["key"] as? String == "MOVE-KEY-0000-0001" }?[
                "expiresAt"] as? String)
        #expect(first["subscriptionInterval"] as? String == "P1Y")
        #expect(first["notes"] as? String == "first")
        #expect(first["tags"] as? [String] == ["a", "b"])
        #expect(Self.metadata(first, "plan") == "pro")
        #expect(Self.metadata(first, "order_id") == "M-1")
        #expect(
            Self.metadata(first, "cryptlex_id") == sourceLicenses.first {
                $0["key"] as? String == "MOVE-KEY-0000-0001"
            }?["id"] as? String)
        // The source account's marker stayed behind; this account's run put its own.
        let markers = (first["metadata"] as? [[String: Any]] ?? []).filter { $0["key"] as? String == "licprov_request" }
        #expect(markers.count == 1)
        #expect(
            markers.first?["value"] as? String
                != Self.metadata(
                    sourceLicenses.first { $0["key"] as? String == "MOVE-KEY-0000-0001" }!, "licprov_request"))
        let users = try await target.admin("users") as? [[String: Any]] ?? []
        #expect(users.map { $0["email"] as? String } == ["ana@example.com"])
        #expect(first["userId"] as? String == users.first?["id"] as? String)
    }
}

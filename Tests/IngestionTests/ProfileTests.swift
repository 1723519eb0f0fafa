import CryptlexModels
import Foundation
import Testing

@testable import FileFormats
@testable import Ingestion

/// Orders as they arrive: column mappings, value tables and local date formats.
@Suite("Column mappings, value tables, local dates")
struct ProfileTests {
    static let sheet = """
        Order No,Customer Email,Company,Seats,Plan,Purchase Date
        R-1001,ana@acme.example,Acme GmbH,5,Pro,03/11/2026
        R-1002,ben@beta.example,,1,  basic ,30/11/2026

        """

    static func options(
        _ map: [String: String] = [
            "Order No": "order_id", "Customer Email": "email", "Seats": "allowedActivations",
            "Purchase Date": "expiresAt",
        ],
        tables: [ValueTable] = [], format: String? = "dd/MM/yyyy"
    ) throws -> IngestOptions {
        var options = IngestOptions(idColumn: "order_id", defaults: [("productId", "p1")])
        options.columnMap = map
        options.valueTables = tables
        options.dateFormat = try format.map { try DateFormat(pattern: $0) }
        return options
    }

    static let plans = ValueTable(
        column: "Plan",
        entries: [
            .init(
                value: "Pro",
                fields: [
                    .init(name: "licenseTemplateId", value: "tmpl-pro"), .init(name: "metadata.plan", value: "pro"),
                ]),
            .init(
                value: "Basic",
                fields: [
                    .init(name: "licenseTemplateId", value: "tmpl-basic"),
                    .init(name: "allowedActivations", value: "1"),
                ]),
        ])

    @Test func aResellersSheetReadsWithAMappingATableAndItsDates() throws {
        let result = try read("acme.csv", Self.sheet, Self.options(tables: [Self.plans]))
        #expect(result.messages.isEmpty, "\(result.messages)")
        #expect(result.rows.map(\.rowID) == ["R-1001", "R-1002"])
        #expect(result.rows.map(\.customer?.email) == ["ana@acme.example", "ben@beta.example"])
        #expect(result.rows.map(\.request.allowedActivations) == [5, 1])
        #expect(result.rows.map(\.request.licenseTemplateId) == ["tmpl-pro", "tmpl-basic"])
        #expect(result.rows.map(\.request.expiresAt) == ["2026-11-03T00:00:00Z", "2026-11-30T00:00:00Z"])
        #expect(result.rows[0].request.metadata == [LicenseMetadata(key: "plan", value: "pro")])
        // The same file without the profile: the columns are unknown.
        let bare = try read("acme.csv", Self.sheet, IngestOptions(defaults: [("productId", "p1")]))
        #expect(bare.messages.contains { $0.contains("Customer Email: is not a license field") })
        #expect(bare.summary.errors == 6)  // five columns, and a company without an email
    }

    @Test func aSourceTheFileDoesNotHaveIsAnError() throws {
        var map = try Self.options().columnMap
        map["E-mail"] = "firstName"
        let error = try readError("acme.csv", Array(Self.sheet.utf8), Self.options(map))
        #expect(
            error?.message.contains("\"E-mail\" (→ firstName), which the file does not have") == true,
            "\(String(describing: error?.message))")
    }

    @Test func twoSourcesForOneTargetAreAnErrorNamingBoth() throws {
        #expect(
            throws: IngestionError.badOption(
                "--map: \"Company\" and \"Customer Email\" both map to email; map one of them")
        ) {
            try ColumnMapping.check(["Customer Email": "email", "Company": "email"], idColumn: nil)
        }
        // A source mapped to what another column already is.
        let error = try readError(
            "t.csv", Array("email,Customer Email,productId\na@x.example,b@x.example,p\n".utf8),
            Self.options(["Customer Email": "email"], format: nil))
        #expect(error?.message.contains("both set email") == true)
        #expect(error?.message.contains("Customer Email → email") == true)
        // A target licprov does not know.
        #expect(throws: IngestionError.self) { try ColumnMapping.check(["Seats": "seatz"], idColumn: nil) }
    }

    @Test func aValueMissingFromTheTableIsARowErrorListingTheKnownValues() throws {
        let text = Self.sheet + "R-1003,cy@x.example,,2,Enterprise,01/12/2026\n"
        let result = try read("acme.csv", text, Self.options(tables: [Self.plans]))
        #expect(
            result.messages == ["acme.csv:4: Plan: \"Enterprise\" is not in [values.Plan]; its values are: Basic, Pro"])
        #expect(result.summary.validRows == 2)
    }

    @Test func theRowWinsOverTheTableWithAWarningAndTheTableOverSet() throws {
        var options = try Self.options(tables: [Self.plans])
        options.defaults.append(("licenseTemplateId", "tmpl-default"))
        let text =
            "Order No,Customer Email,Seats,Plan,Purchase Date,licenseTemplateId\nR-1,a@x.example,3,Pro,01/01/2027,tmpl-own\nR-2,b@x.example,,Pro,01/01/2027,\n"
        let result = try read("t.csv", text, options)
        #expect(result.rows.map(\.request.licenseTemplateId) == ["tmpl-own", "tmpl-pro"])
        #expect(
            result.messages == [
                "t.csv:2: licenseTemplateId: warning: the row says \"tmpl-own\", [values.Plan] Pro says \"tmpl-pro\"; the row's value is used"
            ])
        #expect(result.summary.warnings == 1 && result.summary.errors == 0)
        // Seats from the row (3), or the Basic plan's 1 when the row has none: the row wins there too.
    }

    @Test func aTableKeyedOnTheFieldItSetsTranslatesIt() throws {
        let table = ValueTable(
            column: "productId", entries: [.init(value: "old-prod", fields: [.init(name: "productId", value: "p-new")])]
        )
        var options = IngestOptions(idColumn: "sku_order")
        options.columnMap = ["SKU": "productId"]
        options.valueTables = [table]
        let result = try read("t.csv", "sku_order,SKU\nO-1,OLD-PROD\nO-2,unknown\n", options)
        #expect(result.rows[0].request.productId == "p-new")
        #expect(result.rows[0].diagnostics.isEmpty)
        #expect(result.messages.contains { $0.contains("productId: \"unknown\" is not in [values.productId]") })
    }

    @Test func jsonMembersAreMappedAndKeyTablesToo() throws {
        var options = IngestOptions(idColumn: "order_id", defaults: [("productId", "p1")])
        options.columnMap = ["orderNo": "order_id", "mail": "email"]
        options.valueTables = [Self.plans]
        let result = try read("t.ndjson", #"{"orderNo":"J-1","mail":"j@x.example","Plan":"pro"}"# + "\n", options)
        #expect(result.messages.isEmpty, "\(result.messages)")
        #expect(result.rows.first?.rowID == "J-1")
        #expect(result.rows.first?.customer?.email == "j@x.example")
        #expect(result.rows.first?.request.licenseTemplateId == "tmpl-pro")
    }

    @Test(arguments: [
        ("dd/MM/yyyy", "03/11/2026", "2026-11-03T00:00:00Z"),
        ("MM/dd/yyyy", "03/11/2026", "2026-03-11T00:00:00Z"),
        ("dd.MM.yyyy", "3.11.2026", "2026-11-03T00:00:00Z"),
        ("yyyy-MM-dd HH:mm", "2026-11-03 09:05", "2026-11-03T09:05:00+01:00"),
        ("dd/MM/yyyy", "2026-11-03", "2026-11-03T00:00:00Z"),  // ISO is read too
    ])
    func localDateFormats(_ format: String, _ text: String, _ expected: String) throws {
        var options = IngestOptions(
            defaults: [("productId", "p1")], timeZone: try LocalTimeZone(parsing: "Europe/Berlin"))
        options.dateFormat = try DateFormat(pattern: format)
        let result = try read("t.csv", "expiresAt\n\(text)\n", options)
        #expect(result.messages.isEmpty, "\(result.messages)")
        #expect(result.rows.first?.request.expiresAt == expected)
    }

    @Test func impossibleDatesAndOtherFormatsAreErrorsAndNothingIsGuessed() throws {
        var options = IngestOptions(defaults: [("productId", "p1")])
        options.dateFormat = try DateFormat(pattern: "dd/MM/yyyy")
        let result = try read("t.csv", "expiresAt\n31/02/2026\n11-03-2026\n2026-11-03 10:00\n", options)
        #expect(
            Array(result.messages.prefix(2)) == [
                "t.csv:2: expiresAt: is not a calendar date: \"31/02/2026\" read as dd/MM/yyyy",
                "t.csv:3: expiresAt: must be a date written dd/MM/yyyy (--date-format) or as 2025-03-01, not \"11-03-2026\"",
            ], "\(result.messages)")
        #expect(result.messages.last?.contains("t.csv:4: expiresAt: ") == true, "\(result.messages)")
        #expect(result.messages.last?.contains("--time-zone") == true, "\(result.messages)")
        #expect(result.summary.errors == 3)
        // Without a format, 03/11/2026 is never guessed.
        let bare = try read("t.csv", "expiresAt\n03/11/2026\n")
        #expect(bare.summary.errors == 1)
        #expect(throws: IngestionError.self) { try DateFormat(pattern: "dd/MMM/yy") }
    }
}

/// validate checks what run checks: room for licprov's marker and the order id, and no clash.
@Suite("validate checks what run checks")
struct RunParityTests {
    @Test func theMarkerAndTheOrderIdNeedRoomAndNoClash() throws {
        let many = (1...49).map { "metadata.k\($0)" }.joined(separator: ",")
        let values = (1...49).map { "v\($0)" }.joined(separator: ",")
        var options = IngestOptions(idColumn: "order_id", defaults: [("productId", "p1")])
        let result = try read("t.csv", "order_id,\(many)\nO-1,\(values)\n", options)
        #expect(
            result.messages == [
                "t.csv:2: metadata: 49 metadata entries leave no room for the entries licprov adds (its marker, the order id); at most 48"
            ])
        let clash = try read("t.csv", "order_id,metadata.licprov_request,metadata.order_id\nO-1,x,y\n", options)
        #expect(
            clash.messages == [
                "t.csv:2: metadata.licprov_request: this metadata key is licprov's marker; rename the column, or choose another marker with --marker-key",
                "t.csv:2: metadata.order_id: the id column order_id is kept as a metadata entry of that name already; drop this column or pass --no-id-metadata",
            ])
        // --no-marker and --no-id-metadata leave the room.
        options.markerKey = nil
        options.keepIDAsMetadata = false
        #expect(try read("t.csv", "order_id,\(many)\nO-1,\(values)\n", options).messages.isEmpty)
        let twice = try read("t.csv", "userId,email\nu-1,a@x.example\n")
        #expect(
            twice.messages == [
                "t.csv:2: userId: the row names its user twice, by userId and by email; keep one of the two columns"
            ])
    }
}

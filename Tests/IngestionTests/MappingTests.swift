import CryptlexModels
import Foundation
import Testing

@testable import FileFormats
@testable import Ingestion

@Suite("Mapping columns onto the license body")
struct MappingTests {
    @Test func columnsMapByNameWithTypesFromTheSchema() throws {
        let csv = """
            Product ID,allowed_activations,revoked,expiresAt,subscriptionInterval,tags,metadata.plan,metadata.seats,type,email,First Name,company,quantity
            p1,3,yes,2025-03-01,p1y,a| b ||c,pro,,Hosted-Floating,ann@example.com,Ann,"Acme, Inc",2

            """
        let result = try read("t.csv", csv, IngestOptions())
        #expect(result.messages.isEmpty)
        let row = try #require(result.rows.first)
        var expected = LicenseRequest(productId: "p1")
        expected.allowedActivations = 3
        expected.revoked = true
        expected.expiresAt = "2025-03-01T00:00:00Z"
        expected.subscriptionInterval = "P1Y"
        expected.tags = ["a", "b", "c"]
        expected.metadata = [LicenseMetadata(key: "plan", value: "pro")]
        expected.type = .hostedFloating
        #expect(row.request == expected)
        #expect(row.customer == Customer(email: "ann@example.com", firstName: "Ann", company: "Acme, Inc"))
        #expect(row.quantity == 2)
        #expect(row.rowID == "#1")
        #expect(result.summary.licenses == 2)
    }

    @Test func defaultsApplyToEveryRowAndARowValueWins() throws {
        let options = IngestOptions(defaults: [
            ("productId", "default-product"), ("allowedActivations", "1"), ("metadata.source", "reseller-x"),
        ])
        let result = try read("t.csv", "productId,allowedActivations,metadata.source\n,,\nother,5,direct\n", options)
        #expect(result.rows.map(\.request.productId) == ["default-product", "other"])
        #expect(result.rows.map(\.request.allowedActivations) == [1, 5])
        #expect(result.rows.map { $0.request.metadata?.first?.value } == ["reseller-x", "direct"])
    }

    @Test func jsonRowsTakeMetadataAsAnArrayOrAnObjectAndTypedValues() throws {
        let json = """
            [{"productId":"p1","allowedActivations":2,"userLocked":true,"metadata":[{"key":"a","value":"1","viewPermissions":["user"]}]},
             {"productId":"p1","allowedActivations":"4","metadata":{"a":"2","n":7},"tags":["x"],"meterAttributes":[{"name":"exports","allowedUses":-1}]}]
            """
        let result = try read("t.json", json)
        #expect(result.messages.isEmpty)
        #expect(result.rows[0].request.metadata == [LicenseMetadata(key: "a", value: "1", viewPermissions: [.user])])
        #expect(result.rows[0].request.userLocked == true)
        #expect(result.rows[1].request.allowedActivations == 4)
        #expect(
            result.rows[1].request.metadata == [
                LicenseMetadata(key: "a", value: "2"), LicenseMetadata(key: "n", value: "7"),
            ])
        #expect(result.rows[1].request.meterAttributes == [LicenseMeterAttribute(name: "exports", allowedUses: -1)])
        #expect(result.rows.map(\.position.line) == [1, 2])
    }

    @Test func aJSONValueOfTheWrongTypeIsNamed() throws {
        let result = try read(
            "t.ndjson", #"{"productId":"p1","allowedActivations":[1],"tags":"a|b","revoked":"no","notes":{"x":1}}"#)
        #expect(
            result.messages == [
                "t.ndjson:1: allowedActivations: must be a whole number, not an array",
                "t.ndjson:1: notes: must be text, not an object",
            ])
        #expect(result.rows.first?.request.tags == ["a", "b"])
        #expect(result.rows.first?.request.revoked == false)
    }

    @Test func theIdColumnIdentifiesRowsAndIsNotSent() throws {
        let result = try read("t.csv", "order_id,productId\nA-1,p1\n,p1\n", IngestOptions(idColumn: "order_id"))
        #expect(result.rows.map(\.rowID) == ["A-1", "#2"])
        #expect(
            result.messages == [
                "t.csv:3: order_id: is empty; every row needs its own order_id (it identifies the row across runs)"
            ])
        let missing = try readError("t.csv", Array("productId\np1\n".utf8), IngestOptions(idColumn: "order_id"))
        #expect(missing?.message.contains("there is no column named \"order_id\"") == true)
    }

    @Test func anIdColumnThatIsAlsoAFieldIsSentAndStillIdentifiesRowsWithErrors() throws {
        let result = try read("t.csv", "key,productId\nSHORT,p1\nSHORT,p1\n", IngestOptions(idColumn: "key"))
        #expect(result.rows.map(\.rowID) == ["SHORT", "SHORT"])
        #expect(result.rows.first?.request.key == "SHORT")
        // The second row is a duplicate id even though both rows also have an invalid key.
        #expect(
            result.rows[1].diagnostics.map(\.message).contains(
                "\"SHORT\" is also the id of the row on line 2; ids must be unique"))
    }

    @Test func aKeyedRowMakesOneLicenseAndCustomerFieldsNeedAnEmail() throws {
        let result = try read("t.csv", "key,quantity,firstName\nKEY-1234-5678-9012,2,Ann\n")
        #expect(
            result.messages.sorted() == [
                "t.csv:2: firstName: is given but email is empty; a customer is identified by email",
                "t.csv:2: quantity: must be 1 for a row with its own key (a key belongs to one license), not 2",
            ])
    }

    @Test func badDefaultsAreUsageErrorsBeforeAnythingIsRead() throws {
        #expect(
            throws: IngestionError.badOption(
                "--set allowedActivatons=…: allowedActivatons is not a license field (did you mean allowedActivations?)"
            )
        ) {
            try OrderFileReader(path: "x.csv", options: IngestOptions(defaults: [("allowedActivatons", "3")]))
        }
        #expect(
            throws: IngestionError.badOption(
                "--set allowedActivations=x: allowedActivations must be a whole number, not \"x\"")
        ) {
            try OrderFileReader(path: "x.csv", options: IngestOptions(defaults: [("allowedActivations", "x")]))
        }
    }

    @Test(arguments: ["P1Y", "P6M", "P2W", "P30D", "PT24H", "P1Y2M3DT4H5M6S", "p1m"])
    func validDurations(text: String) {
        #expect((try? DurationText.validate(text).get()) == text.uppercased())
    }

    @Test(arguments: ["P", "PT", "1Y", "P1H", "PT1D", "P1M1Y", "P1.5Y", ""])
    func invalidDurations(text: String) {
        #expect((try? DurationText.validate(text).get()) == nil)
    }

    @Test func samplesValidateClean() throws {
        let samples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("samples")
        let cases: [(String, IngestOptions)] = [
            ("reseller-orders.csv", IngestOptions(idColumn: "order_id")),
            ("migration.csv", IngestOptions(idColumn: "order_id", defaults: [("productId", "prod-desktop")])),
            ("shop-export.json", IngestOptions(idColumn: "order_id")),
            ("nightly.ndjson", IngestOptions(idColumn: "order_id")),
            (
                "cryptlex-importer.csv",
                IngestOptions(
                    idColumn: "order_id", defaults: [("productId", "prod-desktop")], timeZone: .offset(seconds: 0))
            ),
        ]
        for (name, options) in cases {
            let result = try read(path: samples.appendingPathComponent(name).path, options)
            #expect(result.messages.isEmpty, "\(name): \(result.messages)")
            #expect(result.summary.rows > 0)
        }
    }
}

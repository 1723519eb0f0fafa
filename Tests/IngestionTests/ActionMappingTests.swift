import CryptlexModels
import Foundation
import Testing

@testable import Ingestion

/// Rows that change licenses: the action, the target, and what each action allows, with the
/// FILE:LINE: FIELD messages `validate` and `run` print.
@Suite("Mapping and validating change rows")
struct ActionMappingTests {
    static let options = IngestOptions(idColumn: "order_id", defaults: [("productId", "p1")])

    /// An update may replace the whole metadata list when the list carries licprov's marker entry
    /// (as `plan` writes it); a single entry alone stays refused (it would drop the marker).
    @Test func anUpdateReplacesTheWholeMetadataListOnlyWithTheMarkerInIt() throws {
        var options = Self.options
        options.markerKey = "licprov_request"
        let ndjson =
            #"{"order_id":"U-1","action":"update","licenseId":"L-1","metadata":[{"key":"plan","value":"pro"},{"key":"licprov_request","value":"lp-1"}]}"#
            + "\n"
            + #"{"order_id":"U-2","action":"update","licenseId":"L-2","metadata":[{"key":"plan","value":"pro"}]}"#
            + "\n"
        let result = try read("t.ndjson", ndjson, options)
        #expect(result.rows[0].isValid)
        #expect(result.rows[0].changedFields == ["metadata"])
        #expect(result.rows[0].request.metadata?.map(\.key) == ["plan", "licprov_request"])
        #expect(
            result.messages == [
                "t.ndjson:2: metadata.plan: cannot be changed by update: Cryptlex replaces a license's whole metadata list, which would drop licprov's marker"
            ])
    }

    /// An update row with an email links its license to that customer (what `plan` writes when the
    /// file's email for an order changed); the customer's cells are checked as a create row's.
    @Test func anUpdateWithAnEmailLinksTheLicenseToThatCustomer() throws {
        let csv = """
            order_id,action,licenseId,email,firstName,userId
            R-1,update,L-1,new@example.com,Ann,
            R-2,update,L-2,not-an-email,,
            R-3,update,L-3,,Bob,
            R-4,update,L-4,c@example.com,,U-9

            """
        let result = try read("t.csv", csv, Self.options)
        #expect(result.rows[0].isValid)
        #expect(result.rows[0].customer == Customer(email: "new@example.com", firstName: "Ann"))
        #expect(result.rows[0].changedFields.isEmpty)
        #expect(
            result.messages == [
                "t.csv:3: email: is not an email address: \"not-an-email\"",
                "t.csv:4: firstName: is given but email is empty; a customer is identified by email",
                "t.csv:5: userId: the row names its user twice, by userId and by email; keep one of the two columns",
            ])
    }

    @Test func everyActionIsReadFromItsColumnInAnyCommonSpelling() throws {
        let csv = """
            order_id,action,licenseId,expiresAt,allowedActivations
            A-1,,,,2
            A-2,update,L-2,,5
            A-3,Renew,L-3,,
            A-4,set_expiry,L-4,2030-01-01,
            A-5,Set Expiry,L-5,perpetual,
            A-6,SUSPEND,L-6,,
            A-7,unsuspend,L-7,,
            A-8,revoke,L-8,,
            A-9,unrevoke,L-9,,
            A-10,delete,L-10,,

            """
        let result = try read("t.csv", csv, Self.options)
        #expect(result.messages.isEmpty)
        #expect(
            result.rows.map(\.action) == [
                .create, .update, .renew, .setExpiry, .setExpiry, .suspend, .unsuspend, .revoke, .unrevoke, .delete,
            ])
        #expect(result.rows.map(\.target) == [nil] + (2...10).map { LicenseTarget.id("L-\($0)") })
        #expect(result.rows[1].changedFields == ["allowedActivations"])
        #expect(result.rows[1].request.allowedActivations == 5)
        #expect(result.rows[3].expiry == .date("2030-01-01T00:00:00Z"))
        #expect(result.rows[4].expiry == .perpetual)
        // A change needs no product: the flag's product is for creates and is not sent with a change.
        #expect(result.rows[1].changedFields.contains("productId") == false)
    }

    @Test func theTargetIsALicenseIdAKeyOrAMetadataEntry() throws {
        var options = Self.options
        options.targetMetadata = "order_id"
        let csv = """
            order_id,action,licenseId,key
            B-1,renew,L-1,
            B-2,renew,,KEY-0000-0000-0002
            B-3,renew,,

            """
        let result = try read("t.csv", csv, options)
        #expect(result.messages.isEmpty)
        #expect(
            result.rows.map(\.target) == [
                .id("L-1"), .key("KEY-0000-0000-0002"), .metadata(name: "order_id", value: "B-3"),
            ])
        // A key that is the target is not also a change of key.
        #expect(result.rows[1].request.key == nil)

        // Another column as the metadata entry (`--target-metadata shop_ref`, a plain column).
        options.targetMetadata = "shop_ref"
        let other = try read("t.csv", "order_id,action,shop_ref\nC-1,revoke,S-77\nC-2,revoke,\n", options)
        #expect(other.rows[0].target == .metadata(name: "shop_ref", value: "S-77"))
        #expect(
            other.messages == [
                "t.csv:3: shop_ref: is empty; --target-metadata shop_ref finds the license to revoke by it"
            ])
    }

    @Test func aChangeRowWithoutATargetSaysHowToNameOne() throws {
        let result = try read("t.csv", "order_id,action\nD-1,suspend\n", Self.options)
        #expect(
            result.messages == [
                "t.csv:2: names no license to suspend: add a licenseId or key column, or pass --target-metadata NAME (the order id licprov keeps on each license it creates)"
            ])
        #expect(result.rows[0].isValid == false)
    }

    @Test func fieldsAnActionDoesNotUseAreErrors() throws {
        let csv = """
            order_id,action,licenseId,allowedActivations,email,quantity,expiresAt,productId,metadata.plan
            E-1,renew,L-1,3,,,,,
            E-2,revoke,L-2,,ann@example.com,,,,
            E-3,delete,L-3,,,2,,,
            E-4,update,L-4,,,,2030-01-01,,
            E-5,update,L-5,,,,,p2,
            E-6,update,L-6,,,,,,pro
            E-7,update,L-7,,,,,,
            E-8,set-expiry,L-8,,,,,,
            E-9,suspend,L-9,,,,perpetual,,

            """
        let result = try read("t.csv", csv, Self.options)
        #expect(
            result.messages == [
                "t.csv:2: allowedActivations: is not used by renew; leave it empty (only update changes fields)",
                "t.csv:3: email: is for create and update rows; revoke does not change the customer",
                "t.csv:4: quantity: is for create rows; a delete row changes one license",
                "t.csv:5: expiresAt: cannot be changed by update: use the set-expiry action (or renew)",
                "t.csv:6: productId: cannot be changed by update: a license cannot move to another product; create a new one",
                "t.csv:7: metadata.plan: cannot be changed by update: Cryptlex replaces a license's whole metadata list, which would drop licprov's marker",
                "t.csv:8: is an update that changes nothing: add a column with the new value",
                "t.csv:9: expiresAt: is required for set-expiry: a date-time, or perpetual for a license that never expires",
                "t.csv:10: expiresAt: is not used by suspend; leave it empty",
            ])
    }

    @Test func updateValuesAreCheckedAgainstTheSchema() throws {
        let result = try read(
            "t.csv",
            "order_id,action,licenseId,allowedActivations,serverSyncInterval,tags\nF-1,update,L-1,-2,60,a|b|c|d|e|f\n",
            Self.options)
        #expect(
            result.messages == [
                "t.csv:2: allowedActivations: must be at least -1 (-1 means unlimited), not -2",
                "t.csv:2: serverSyncInterval: must be at least 180 seconds, not 60",
                "t.csv:2: tags: may have at most 5 items, not 6",
            ])
    }

    @Test func anUnknownActionAndCreateOnlyMisusesAreNamed() throws {
        let result = try read(
            "t.csv", "order_id,action,licenseId,expiresAt\nG-1,extend,L-1,\nG-2,create,L-2,\nG-3,,,perpetual\n",
            Self.options)
        #expect(
            result.messages == [
                "t.csv:2: action: \"extend\" is not an action; expected one of create, update, renew, set-expiry, suspend, unsuspend, revoke, unrevoke, delete",
                "t.csv:3: licenseId: is for rows that change a license (update, renew, …); a create row makes a new one, so leave it empty or set the row's action",
                "t.csv:4: expiresAt: \"perpetual\" is for set-expiry rows; leave expiresAt empty for a new license that never expires",
            ])
    }

    @Test func theActionFlagAppliesToRowsWithoutOneAndJSONRowsWork() throws {
        var options = Self.options
        options.action = .renew
        options.targetMetadata = "order_id"
        let ndjson = """
            {"order_id":"H-1"}
            {"order_id":"H-2","action":"revoke"}
            {"order_id":"H-3","action":"update","allowedActivations":4,"licenseId":"L-3"}

            """
        let result = try read("t.ndjson", ndjson, options)
        #expect(result.messages.isEmpty)
        #expect(result.rows.map(\.action) == [.renew, .revoke, .update])
        #expect(
            result.rows.map(\.target) == [
                .metadata(name: "order_id", value: "H-1"), .metadata(name: "order_id", value: "H-2"), .id("L-3"),
            ])
        // A file of changes needs no productId column.
        var deleting = IngestOptions(idColumn: "order_id")
        deleting.action = .delete
        let changes = try read("t.csv", "order_id,licenseId\nI-1,L-1\n", deleting)
        #expect(changes.messages.isEmpty)
        #expect(changes.rows.first?.action == .delete)
    }

    /// The fields licprov lets an update change are `LicenseUpdateRequestModel`'s, as published.
    @Test func theUpdatableFieldsAreTheSchemasUpdateModel() throws {
        let schemaURL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
            "../../Sources/CryptlexEmulator/Resources/cryptlex-v3-subset.json")
        let schema = try JSONSerialization.jsonObject(with: Data(contentsOf: schemaURL)) as? [String: Any]
        let components = schema?["components"] as? [String: Any]
        let model = (components?["schemas"] as? [String: Any])?["LicenseUpdateRequestModel"] as? [String: Any]
        let properties = try #require(model?["properties"] as? [String: Any])
        #expect(Set(properties.keys) == LicenseFieldTable.updatable)
    }
}

/// A file `licprov pull` wrote: every row names its license by licenseId and key and carries all
/// of its columns; the action takes what it uses and leaves the rest.
@Suite("Mapping a pulled file as a change file")
struct PulledFileMappingTests {
    static let pulled = """
        licenseId,key,productId,revoked,suspended,allowedActivations,notes,expiresAt,createdAt,metadata.plan,email,firstName,lastName,organization.name,reseller.name
        L-1,KEY-0000-0000-0001,prod-1,false,false,3,"a, b",2027-01-15T00:00:00Z,2026-01-01T10:00:00.1234567Z,pro,ann@example.com,Ann,Lee,Acme,Resell One
        L-2,KEY-0000-0000-0002,prod-1,false,true,1,,,2026-01-02T10:00:00Z,,,,,,

        """

    @Test func everyChangeActionTakesWhatItUsesAndLeavesTheRest() throws {
        for action in LicenseAction.allCases where action != .create {
            var options = IngestOptions()
            options.action = action
            let text =
                action == .setExpiry
                ? Self.pulled.replacingOccurrences(of: ",,,2026-01-02", with: ",,2028-01-01T00:00:00Z,2026-01-02")
                : Self.pulled
            let result = try read("pulled.csv", text, options)
            #expect(result.messages == [], "\(action): \(result.messages)")
            #expect(result.rows.map(\.target) == [.id("L-1"), .id("L-2")], "\(action)")
        }
    }

    @Test func anUpdateTakesEveryFieldItCanChangeAndTheMetadataAsTheWholeList() throws {
        var options = IngestOptions()
        options.action = .update
        let result = try read("pulled.csv", Self.pulled, options)
        #expect(result.messages == [])
        #expect(
            Set(result.rows[0].changedFields) == [
                "key", "revoked", "suspended", "allowedActivations", "notes", "metadata",
            ])
        #expect(result.rows[0].request.metadata?.map(\.key) == ["plan"])
        #expect(result.rows[0].customer?.email == "ann@example.com")
        #expect(Set(result.rows[1].changedFields) == ["key", "revoked", "suspended", "allowedActivations"])
    }

    @Test func aRowWithoutTheKeyIsCheckedAsAHandWrittenChangeRow() throws {
        var options = IngestOptions()
        options.action = .suspend
        let result = try read("t.csv", "licenseId,allowedActivations\nL-1,3\n", options)
        #expect(
            result.messages == [
                "t.csv:2: allowedActivations: is not used by suspend; leave it empty (only update changes fields)"
            ])
    }
}

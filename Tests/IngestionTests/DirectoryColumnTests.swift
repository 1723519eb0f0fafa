import CryptlexModels
import Foundation
import Testing

@testable import Ingestion

/// `organization.*` and `reseller.*` columns, checked against the create schemas.
@Suite("Organization and reseller columns")
struct DirectoryColumnTests {
    @Test func columnsBecomeTheCreateRequestsWithUnlimitedByDefault() throws {
        let csv = """
            Organization Name,organization.email,organization.address.city,organization_allowed_users,reseller.name,reseller.email,reseller.allowedOrganizations
              Acme GmbH ,it@acme.example,Berlin,25,North Partners,sales@north.example,10

            """
        let result = try read("t.csv", csv)
        #expect(result.messages.isEmpty, "\(result.messages)")
        let row = try #require(result.rows.first)
        #expect(
            row.organization
                == OrganizationRequest(
                    name: "Acme GmbH", email: "it@acme.example", allowedUsers: 25,
                    address: OrganizationRequest.Address(city: "Berlin")))
        #expect(
            row.reseller
                == ResellerRequest(
                    name: "North Partners", email: "sales@north.example", allowedUsers: -1, allowedOrganizations: 10))
    }

    @Test func aMissingOrganizationEmailSaysWhichColumnOrSetSuppliesIt() throws {
        let result = try read(
            "t.csv", "order_id,organization.name\nA-1,Acme\n",
            IngestOptions(idColumn: "order_id", defaults: [("productId", "p1")]))
        #expect(
            result.messages == [
                "t.csv:2: organization.email: is required to create the organization \"Acme\" if it does not exist yet: "
                    + "give it in a column named organization.email, or pass --set organization.email=ADDRESS for the whole file"
            ])
        #expect(result.summary.errors == 1)
    }

    @Test func setGivesTheWholeSheetOneReseller() throws {
        let options = IngestOptions(defaults: [
            ("productId", "p1"), ("reseller.name", "North Partners"), ("reseller.email", "sales@north.example"),
        ])
        let result = try read(
            "t.csv", "organization.name,organization.email\nAcme,it@acme.example\nInitech,it@initech.example\n", options
        )
        #expect(result.messages.isEmpty, "\(result.messages)")
        #expect(result.rows.map { $0.reseller?.name } == ["North Partners", "North Partners"])
    }

    @Test func caseVariantsOfOneNameAreOneWithAWarning() throws {
        let csv =
            "organization.name,organization.email,reseller.name,reseller.email\n"
            + "Acme GmbH,it@acme.example,North,s@north.example\n"
            + "ACME GMBH,it@acme.example,north,s@north.example\n"
            + "Acme GmbH,it@acme.example,South,s@south.example\n"
        let result = try read("t.csv", csv)
        #expect(result.summary.errors == 0)
        #expect(
            result.messages == [
                "t.csv:3: reseller.name: warning: \"north\" is taken as the reseller \"North\" of line 2 (names differing only in case are one)",
                "t.csv:3: organization.name: warning: \"ACME GMBH\" is taken as the organization \"Acme GmbH\" of line 2 (names differing only in case are one)",
                "t.csv:4: reseller.name: warning: the organization \"Acme GmbH\" is under the reseller \"North\" on line 2; an organization has one reseller, the first row's",
            ])
    }

    @Test func badValuesAndHalfGivenDirectoriesAreRowErrors() throws {
        let csv =
            "organization.name,organization.email,organization.allowedUsers,reseller.email,organizationId\n"
            + "Acme,not-an-email,-2,,\n"
            + ",,,sales@x.example,\n"
            + "Initech,it@initech.example,,,org-1\n"
        let result = try read("t.csv", csv)
        #expect(
            result.messages == [
                "t.csv:2: organization.email: is not an email address: \"not-an-email\"",
                "t.csv:2: organization.allowedUsers: must be a whole number from -1 (unlimited) up, not \"-2\"",
                "t.csv:3: reseller.email: is given but reseller.name is empty; a reseller is found by its name: add a reseller.name column or --set reseller.name=NAME",
                "t.csv:4: organizationId: the row names its organization twice, by organizationId and by organization.name; keep one of the two",
            ])
    }

    @Test func aChangeRowRefusesOrganizationColumns() throws {
        let options = IngestOptions(defaults: [("productId", "p1")])
        let result = try read("t.csv", "action,licenseId,organization.name\nrevoke,L-1,Acme\n", options)
        #expect(
            result.messages == [
                "t.csv:2: organization.name: is for create rows; revoke does not move a license to another organization or reseller (update sets organizationId, resellerId)"
            ])
    }
}

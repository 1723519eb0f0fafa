import Foundation

/// The body of `POST /v3/organizations` (`OrganizationCreateRequestModel`): a customer company,
/// optionally under a reseller.
package struct OrganizationRequest: Codable, Sendable, Hashable {
    package var name: String
    package var email: String
    /// −1: unlimited.
    package var allowedUsers: Int
    package var description: String?
    package var address: Address?
    package var resellerId: String?

    /// `AddressRequestModel`: every field optional, each at most 256 characters.
    package struct Address: Codable, Sendable, Hashable {
        package var addressLine1: String?
        package var addressLine2: String?
        package var city: String?
        package var state: String?
        package var country: String?
        package var postalCode: String?

        package init(
            addressLine1: String? = nil, addressLine2: String? = nil, city: String? = nil, state: String? = nil,
            country: String? = nil, postalCode: String? = nil
        ) {
            self.addressLine1 = addressLine1
            self.addressLine2 = addressLine2
            self.city = city
            self.state = state
            self.country = country
            self.postalCode = postalCode
        }
    }

    package init(
        name: String, email: String, allowedUsers: Int = -1, description: String? = nil, address: Address? = nil,
        resellerId: String? = nil
    ) {
        self.name = name
        self.email = email
        self.allowedUsers = allowedUsers
        self.description = description
        self.address = address
        self.resellerId = resellerId
    }
}

/// The body of `POST /v3/resellers` (`ResellerCreateRequestModel`).
package struct ResellerRequest: Codable, Sendable, Hashable {
    package var name: String
    package var email: String
    /// −1: unlimited.
    package var allowedUsers: Int
    package var allowedOrganizations: Int
    package var description: String?

    package init(
        name: String, email: String, allowedUsers: Int = -1, allowedOrganizations: Int = -1, description: String? = nil
    ) {
        self.name = name
        self.email = email
        self.allowedUsers = allowedUsers
        self.allowedOrganizations = allowedOrganizations
        self.description = description
    }
}

/// The parts of an `OrganizationDto` or a `ResellerDto` that licprov reads back. Unknown fields
/// are ignored.
package struct DirectoryRecord: Decodable, Sendable, Equatable {
    package var id: String
    package var name: String
    package var email: String?
    /// An organization's reseller (nil for a reseller, or an organization under none).
    package var resellerId: String?

    package init(id: String, name: String, email: String? = nil, resellerId: String? = nil) {
        self.id = id
        self.name = name
        self.email = email
        self.resellerId = resellerId
    }
}

/// An organization's or reseller's name as licprov compares it — in a file, in the journal and
/// against the account: trimmed, and the same whatever its case (`Acme GmbH` and `ACME GMBH ` are
/// one, as a person reading the sheet would take them).
package enum DirectoryName {
    package static func key(_ name: String) -> String {
        name.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
    }
}

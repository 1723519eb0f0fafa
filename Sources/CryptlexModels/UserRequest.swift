/// The body of `POST /v3/users` (`UserRequestModel`). The password is never logged or stored.
package struct UserRequest: Codable, Sendable, Hashable {
    package var email: String
    package var firstName: String
    package var lastName: String?
    package var company: String?
    package var password: String
    package var role: String?
    package var organizationId: String?
    package var resellerId: String?
    package var allowCustomerPortalAccess: Bool?
    package var tags: [String]?

    package init(
        email: String, firstName: String, lastName: String? = nil, company: String? = nil, password: String,
        role: String? = "user"
    ) {
        self.email = email
        self.firstName = firstName
        self.lastName = lastName
        self.company = company
        self.password = password
        self.role = role
    }
}

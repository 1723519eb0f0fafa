/// The body of `POST /v3/users` (`UserRequestModel`). The password is never logged or stored.
public struct UserRequest: Codable, Sendable, Hashable {
    public var email: String
    public var firstName: String
    public var lastName: String?
    public var company: String?
    public var password: String
    public var role: String?
    public var organizationId: String?
    public var resellerId: String?
    public var allowCustomerPortalAccess: Bool?
    public var tags: [String]?

    public init(email: String, firstName: String, lastName: String? = nil, company: String? = nil, password: String, role: String? = "user") {
        self.email = email
        self.firstName = firstName
        self.lastName = lastName
        self.company = company
        self.password = password
        self.role = role
    }
}

import CryptlexModels
import FileFormats

/// The `organization.*` and `reseller.*` columns: the end customer's company and the reseller an
/// order comes through, found or created once per journal by name (see `DirectoryResolver`).
///
/// Checked against the create schemas (`OrganizationCreateRequestModel`,
/// `ResellerCreateRequestModel`): a name 1–256 characters, an email, `allowedUsers` and
/// `allowedOrganizations` from −1 (unlimited, the default when the sheet has no such column) up.
package enum DirectoryField: String, Sendable, CaseIterable, Hashable {
    case organizationName = "organization.name"
    case organizationEmail = "organization.email"
    case organizationAllowedUsers = "organization.allowedUsers"
    case organizationDescription = "organization.description"
    case addressLine1 = "organization.address.addressLine1"
    case addressLine2 = "organization.address.addressLine2"
    case city = "organization.address.city"
    case state = "organization.address.state"
    case country = "organization.address.country"
    case postalCode = "organization.address.postalCode"
    case resellerName = "reseller.name"
    case resellerEmail = "reseller.email"
    case resellerAllowedUsers = "reseller.allowedUsers"
    case resellerAllowedOrganizations = "reseller.allowedOrganizations"

    var isReseller: Bool { rawValue.hasPrefix("reseller.") }

    /// Column names compare as the body fields' do: any case, without dots, spaces or underscores.
    static let byNormalizedName: [String: DirectoryField] = Dictionary(
        uniqueKeysWithValues: allCases.map { (LicenseFieldTable.normalize($0.rawValue), $0) })
}

enum DirectoryColumns {
    /// The organization and reseller a create row's directory cells describe, each problem reported
    /// through `problem` with the column (or `--set`) that would supply what is missing.
    static func build(_ cells: [DirectoryField: String], _ problem: (String, String) -> Void) -> (
        OrganizationRequest?, ResellerRequest?
    ) {
        guard !cells.isEmpty else { return (nil, nil) }
        func text(_ field: DirectoryField) -> String? {
            guard let value = cells[field]?.trimmed, !value.isEmpty else { return nil }
            if value.count > 256 { problem(field.rawValue, "is \(value.count) characters long; at most 256") }
            return value
        }
        func count(_ field: DirectoryField) -> Int {
            guard let value = text(field) else { return -1 }
            guard let number = Int(value), number >= -1, number <= Int(Int32.max) else {
                problem(field.rawValue, "must be a whole number from -1 (unlimited) up, not \"\(value.prefix(40))\"")
                return -1
            }
            return number
        }
        func email(_ field: DirectoryField, of owner: String, named name: String) -> String {
            guard let value = text(field) else {
                problem(
                    field.rawValue,
                    "is required to create the \(owner) \"\(name.prefix(60))\" if it does not exist yet: give it in a column named \(field.rawValue), or pass --set \(field.rawValue)=ADDRESS for the whole file"
                )
                return ""
            }
            if !RowMapper.looksLikeEmail(value) {
                problem(field.rawValue, "is not an email address: \"\(value.prefix(60))\"")
            }
            return value
        }

        var reseller: ResellerRequest?
        if let name = text(.resellerName) {
            reseller = ResellerRequest(
                name: name, email: email(.resellerEmail, of: "reseller", named: name),
                allowedUsers: count(.resellerAllowedUsers), allowedOrganizations: count(.resellerAllowedOrganizations))
        } else if let given = [DirectoryField.resellerEmail, .resellerAllowedUsers, .resellerAllowedOrganizations]
            .first(where: { text($0) != nil })
        {
            problem(
                given.rawValue,
                "is given but reseller.name is empty; a reseller is found by its name: add a reseller.name column or --set reseller.name=NAME"
            )
        }

        var organization: OrganizationRequest?
        let addressFields: [(DirectoryField, WritableKeyPath<OrganizationRequest.Address, String?>)] = [
            (.addressLine1, \.addressLine1), (.addressLine2, \.addressLine2), (.city, \.city),
            (.state, \.state), (.country, \.country), (.postalCode, \.postalCode),
        ]
        if let name = text(.organizationName) {
            var address = OrganizationRequest.Address()
            var hasAddress = false
            for (field, path) in addressFields {
                if let value = text(field) {
                    address[keyPath: path] = value
                    hasAddress = true
                }
            }
            organization = OrganizationRequest(
                name: name, email: email(.organizationEmail, of: "organization", named: name),
                allowedUsers: count(.organizationAllowedUsers), description: text(.organizationDescription),
                address: hasAddress ? address : nil)
        } else if let given = DirectoryField.allCases.first(where: {
            !$0.isReseller && $0 != .organizationName && text($0) != nil
        }) {
            problem(
                given.rawValue,
                "is given but organization.name is empty; an organization is found by its name: add an organization.name column"
            )
        }
        return (organization, reseller)
    }
}

/// Spellings of organization and reseller names across a file: the second spelling of one name
/// (`ACME GmbH` after `Acme GmbH`) is the same organization, with a warning; an organization
/// named under two resellers keeps the first, with a warning.
struct DirectorySpellings {
    private var organizations: [String: (name: String, resellerKey: String?, reseller: String?, line: Int)] = [:]
    private var resellers: [String: (name: String, line: Int)] = [:]

    mutating func check(_ row: OrderRow, file: String) -> [Diagnostic] {
        var warnings: [Diagnostic] = []
        let line = row.position.line
        if let reseller = row.reseller {
            let key = DirectoryName.key(reseller.name)
            if let first = resellers[key] {
                if first.name != reseller.name {
                    warnings.append(
                        Diagnostic(
                            file: file, line: line, field: DirectoryField.resellerName.rawValue,
                            message:
                                "\"\(reseller.name.prefix(60))\" is taken as the reseller \"\(first.name.prefix(60))\" of line \(first.line) (names differing only in case are one)",
                            severity: .warning))
                }
            } else {
                resellers[key] = (reseller.name, line)
            }
        }
        if let organization = row.organization {
            let key = DirectoryName.key(organization.name)
            let resellerKey = row.reseller.map { DirectoryName.key($0.name) }
            if let first = organizations[key] {
                if first.name != organization.name {
                    warnings.append(
                        Diagnostic(
                            file: file, line: line, field: DirectoryField.organizationName.rawValue,
                            message:
                                "\"\(organization.name.prefix(60))\" is taken as the organization \"\(first.name.prefix(60))\" of line \(first.line) (names differing only in case are one)",
                            severity: .warning))
                }
                if first.resellerKey != resellerKey {
                    warnings.append(
                        Diagnostic(
                            file: file, line: line, field: DirectoryField.resellerName.rawValue,
                            message:
                                "the organization \"\(first.name.prefix(60))\" is under \(first.reseller.map { "the reseller \"\($0)\"" } ?? "no reseller") on line \(first.line); an organization has one reseller, the first row's",
                            severity: .warning))
                }
            } else {
                organizations[key] = (organization.name, resellerKey, row.reseller?.name, line)
            }
        }
        return warnings
    }
}

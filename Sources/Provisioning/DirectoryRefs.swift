import CryptlexModels
import Foundation
import Ingestion
import Journal

/// The journal ids of the organizations and resellers a file names, by name key: registered (with
/// their create bodies) the first time a row names them.
struct DirectoryRefs {
    private var organizations: [String: Int64] = [:]
    private var resellers: [String: Int64] = [:]

    mutating func register(_ row: OrderRow, in registration: SQLiteJournal.Registration) throws -> (
        organization: Int64?, reseller: Int64?
    ) {
        var resellerRef: Int64?
        if let reseller = row.reseller {
            let key = DirectoryName.key(reseller.name)
            if let id = resellers[key] {
                resellerRef = id
            } else {
                let id = try registration.directory(
                    .reseller, name: reseller.name, body: Self.json(reseller), resellerRef: nil
                ).id
                resellers[key] = id
                resellerRef = id
            }
        }
        var organizationRef: Int64?
        if let organization = row.organization {
            let key = DirectoryName.key(organization.name)
            if let id = organizations[key] {
                organizationRef = id
            } else {
                let id = try registration.directory(
                    .organization, name: organization.name, body: Self.json(organization),
                    resellerRef: resellerRef
                ).id
                organizations[key] = id
                organizationRef = id
            }
        }
        return (organizationRef, resellerRef)
    }

    private static func json(_ value: some Encodable) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Array((try? encoder.encode(value)) ?? Data())
    }
}

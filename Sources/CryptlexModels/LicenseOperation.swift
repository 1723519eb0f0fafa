import Foundation

/// What one journal entry does to a license, typed from the row to the wire: the journal keeps it
/// (as its `Codable` JSON), the workers encode the request from it at send time, with the ids of
/// the customer, organization and reseller it links to filled in then.
///
/// In the journal (`license.operation`, a single-key object, keys sorted):
///
/// ```
/// {"create":{…LicenseRequestModel…}}       the request, without the linked ids
/// {"update":{"fields":{…},"linksCustomer":true}}
/// {"renew":{}}   {"delete":{}}
/// {"setExpiry":{"expiresAt":"2027-01-01T00:00:00Z"}}   {"setExpiry":{"expiresAt":null}} (perpetual)
/// {"suspend":true}   {"suspend":false}   {"revoke":true}   {"revoke":false}
/// ```
package enum LicenseOperation: Sendable, Hashable {
    /// `POST /v3/licenses`.
    case create(LicenseRequest)
    /// `PATCH /v3/licenses/{id}` with some fields of `LicenseUpdateRequestModel`.
    case update(LicenseUpdate)
    /// `POST /v3/licenses/{id}/renew`.
    case renew
    /// `PATCH /v3/licenses/{id}/expires-at`.
    case setExpiry(ExpiryChange)
    /// `PATCH /v3/licenses/{id}` with `suspended` (suspend: true, unsuspend: false).
    case suspend(Bool)
    /// `PATCH /v3/licenses/{id}` with `revoked` (revoke: true, unrevoke: false).
    case revoke(Bool)
    /// `DELETE /v3/licenses/{id}`.
    case delete

    /// The row's action, as the file and the results name it.
    package var action: LicenseAction {
        switch self {
        case .create: .create
        case .update: .update
        case .renew: .renew
        case .setExpiry: .setExpiry
        case .suspend(let on): on ? .suspend : .unsuspend
        case .revoke(let on): on ? .revoke : .unrevoke
        case .delete: .delete
        }
    }

    /// The create's request (nil for a change).
    package var request: LicenseRequest? {
        if case .create(let request) = self { return request }
        return nil
    }

    /// The license fields the operation sets, as JSON values: a create's whole request (without
    /// its linked ids), an update's fields, the flag or the expiry; nothing for renew and delete.
    package var fields: [String: JSONAny] {
        switch self {
        case .create(let request):
            (try? JSONDecoder().decode([String: JSONAny].self, from: Data(request.canonicalJSON))) ?? [:]
        case .update(let update): update.fields
        case .renew, .delete: [:]
        case .setExpiry(.date(let date)): ["expiresAt": .string(date)]
        case .setExpiry(.perpetual): ["expiresAt": .null]
        case .suspend(let on): ["suspended": .bool(on)]
        case .revoke(let on): ["revoked": .bool(on)]
        }
    }

    /// The body to send, with the linked ids, encoded now from the typed operation: a create's
    /// request, a PATCH's fields (an update that links its license to the row's customer gets
    /// `userId`); empty for renew and delete.
    package func wireBody(userID: String? = nil, organizationID: String? = nil, resellerID: String? = nil) -> [UInt8] {
        switch self {
        case .create(var request):
            if let userID { request.userId = userID }
            if let organizationID { request.organizationId = organizationID }
            if let resellerID { request.resellerId = resellerID }
            // The same bytes JSONEncoder writes (LicenseRequestJSONTests), at a tenth of the cost:
            // every create is encoded here as it is sent.
            return request.canonicalJSON
        case .update(let update):
            var fields = update.fields
            if update.linksCustomer, let userID { fields["userId"] = .string(userID) }
            return Self.sorted(fields)
        case .renew, .delete: return []
        case .setExpiry, .suspend, .revoke: return Self.sorted(fields)
        }
    }

    /// The journal's bytes: the `Codable` encoding, keys sorted (a create's request is written by
    /// ``LicenseRequest/canonicalJSON``, the same bytes `JSONEncoder` writes, at a tenth of the cost:
    /// a million-row file registers a million of them).
    package var journalBytes: [UInt8] {
        if case .create(let request) = self {
            return Array(#"{"create":"#.utf8) + request.canonicalJSON + [UInt8(ascii: "}")]
        }
        return Self.sorted(self)
    }

    /// Reads ``journalBytes``.
    package init(journalBytes bytes: [UInt8]) throws {
        self = try JSONDecoder().decode(Self.self, from: Data(bytes))
    }

    private static func sorted(_ value: some Encodable) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array((try? encoder.encode(value)) ?? Data("{}".utf8))
    }
}

/// The fields an update row sets (names of `LicenseUpdateRequestModel`, values as the row gave
/// them), and whether it links the license to the row's customer (`userId`, known at send time).
package struct LicenseUpdate: Codable, Sendable, Hashable {
    package var fields: [String: JSONAny]
    package var linksCustomer: Bool

    package init(fields: [String: JSONAny], linksCustomer: Bool = false) {
        self.fields = fields
        self.linksCustomer = linksCustomer
    }
}

extension LicenseOperation: Codable {
    fileprivate enum Key: String, CodingKey {
        case create, update, renew, setExpiry, suspend, revoke, delete
    }

    private struct Nothing: Codable {}

    private struct Expiry: Codable {
        var expiresAt: String?

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(expiresAt, forKey: .expiresAt)  // null for perpetual, not left out
        }
    }

    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        guard container.allKeys.count == 1, let key = container.allKeys.first else {
            throw DecodingError.dataCorrupted(
                .init(
                    codingPath: decoder.codingPath,
                    debugDescription: "an operation is an object with one of \(Key.allNames) as its only key"))
        }
        switch key {
        case .create: self = .create(try container.decode(LicenseRequest.self, forKey: key))
        case .update: self = .update(try container.decode(LicenseUpdate.self, forKey: key))
        case .renew:
            _ = try container.decode(Nothing.self, forKey: key)
            self = .renew
        case .delete:
            _ = try container.decode(Nothing.self, forKey: key)
            self = .delete
        case .setExpiry:
            self = .setExpiry(
                try container.decode(Expiry.self, forKey: key).expiresAt.map(ExpiryChange.date) ?? .perpetual)
        case .suspend: self = .suspend(try container.decode(Bool.self, forKey: key))
        case .revoke: self = .revoke(try container.decode(Bool.self, forKey: key))
        }
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        switch self {
        case .create(let request): try container.encode(request, forKey: .create)
        case .update(let update): try container.encode(update, forKey: .update)
        case .renew: try container.encode(Nothing(), forKey: .renew)
        case .delete: try container.encode(Nothing(), forKey: .delete)
        case .setExpiry(.date(let date)): try container.encode(Expiry(expiresAt: date), forKey: .setExpiry)
        case .setExpiry(.perpetual): try container.encode(Expiry(expiresAt: nil), forKey: .setExpiry)
        case .suspend(let on): try container.encode(on, forKey: .suspend)
        case .revoke(let on): try container.encode(on, forKey: .revoke)
        }
    }
}

extension LicenseOperation.Key: CaseIterable {
    static var allNames: String { allCases.map(\.rawValue).joined(separator: ", ") }
}

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
            (try? JSONDecoder().decode([String: JSONAny].self, from: Data(request.jsonBody))) ?? [:]
        case .update(let update): update.fields
        case .renew, .delete: [:]
        case .setExpiry(.date(let date)): ["expiresAt": .string(date)]
        case .setExpiry(.perpetual): ["expiresAt": .null]
        case .suspend(let on): ["suspended": .bool(on)]
        case .revoke(let on): ["revoked": .bool(on)]
        }
    }

    /// The body to send, with the linked ids: a create's request, a PATCH's fields (an update that
    /// links its license to the row's customer gets `userId`); empty for renew and delete.
    package func wireBody(userID: String? = nil, organizationID: String? = nil, resellerID: String? = nil) -> [UInt8] {
        switch self {
        case .create(var request):
            if let userID { request.userId = userID }
            if let organizationID { request.organizationId = organizationID }
            if let resellerID { request.resellerId = resellerID }
            return request.jsonBody
        case .update(let update):
            var fields = update.fields
            if update.linksCustomer, let userID { fields["userId"] = .string(userID) }
            return Self.sorted(fields)
        case .renew, .delete: return []
        case .setExpiry, .suspend, .revoke: return Self.sorted(fields)
        }
    }

    /// The journal's bytes: the `Codable` encoding, keys sorted (a create's request is written by
    /// ``LicenseRequest/jsonBody``, the same bytes `JSONEncoder` writes, at a tenth of the cost:
    /// a million-row file registers a million of them).
    package var journalBytes: [UInt8] {
        if case .create(let request) = self { return Array(#"{"create":"#.utf8) + request.jsonBody + [UInt8(ascii: "}")] }
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
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                    debugDescription: "an operation is an object with one of \(Key.allNames) as its only key"))
        }
        switch key {
        case .create: self = .create(try container.decode(LicenseRequest.self, forKey: key))
        case .update: self = .update(try container.decode(LicenseUpdate.self, forKey: key))
        case .renew: _ = try container.decode(Nothing.self, forKey: key); self = .renew
        case .delete: _ = try container.decode(Nothing.self, forKey: key); self = .delete
        case .setExpiry: self = .setExpiry(try container.decode(Expiry.self, forKey: key).expiresAt.map(ExpiryChange.date) ?? .perpetual)
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

/// A create's request as the journal holds it: the `Codable` JSON of its ``LicenseRequest`` (what
/// `{"create":…}` wraps). A run sends it as it is, with the ids it links to added, and decodes it
/// only where a field is read (a 409's key): decoding every license's request before its send cost
/// 14 µs a license (`scripts/bench-body.sh`) and about a tenth of `bench.sh fast`'s throughput.
package struct EncodedRequest: Sendable, Equatable {
    /// The request's JSON object.
    package let json: [UInt8]

    private static let prefix = Array(#"{"create":"#.utf8)

    /// The request inside a create's ``LicenseOperation/journalBytes`` (nil: not a create as
    /// licprov writes one; such bytes are decoded instead).
    package init?(journalBytes bytes: some BidirectionalCollection<UInt8>) {
        let inner = bytes.dropFirst(Self.prefix.count).dropLast()
        guard bytes.starts(with: Self.prefix), bytes.last == UInt8(ascii: "}"), inner.first == UInt8(ascii: "{"),
              inner.last == UInt8(ascii: "}") else { return nil }
        json = Array(inner)
    }

    package init(_ request: LicenseRequest) {
        json = request.jsonBody
    }

    package func decoded() throws -> LicenseRequest {
        try JSONDecoder().decode(LicenseRequest.self, from: Data(json))
    }

    /// The body to send: the request with the linked ids, each added as the object's last member
    /// (members are unordered in JSON). A request that names one of them itself, or an id with
    /// anything but letters, digits and dashes, goes through the typed request instead.
    package func wireBody(userID: String? = nil, organizationID: String? = nil, resellerID: String? = nil) throws -> [UInt8] {
        let links = [("userId", userID), ("organizationId", organizationID), ("resellerId", resellerID)].compactMap { name, id in id.map { (name, $0) } }
        if links.isEmpty { return json }
        let plain = links.allSatisfy { _, id in id.utf8.allSatisfy { $0 == UInt8(ascii: "-") || (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) } }
        // A member name `"userId":` cannot occur inside a JSON string (a quote there is escaped),
        // and the request's nested objects have no such member.
        if !plain || links.contains(where: { name, _ in json.firstOffset(of: Array("\"\(name)\":".utf8)) != nil }) {
            return LicenseOperation.create(try decoded()).wireBody(userID: userID, organizationID: organizationID, resellerID: resellerID)
        }
        var body = json
        body.removeLast()
        for (name, id) in links {
            if body.count > 1 { body.append(UInt8(ascii: ",")) }
            body += Array("\"\(name)\":\"\(id)\"".utf8)
        }
        body.append(UInt8(ascii: "}"))
        return body
    }
}

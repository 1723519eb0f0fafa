import Foundation

/// What a row does: create a license (the default), or change one that exists.
package enum LicenseAction: String, Sendable, CaseIterable, Hashable {
    case create
    /// `PATCH /v3/licenses/{id}` with the row's fields (`LicenseUpdateRequestModel`).
    case update
    /// `POST /v3/licenses/{id}/renew`: the expiry plus the subscription interval. Not idempotent.
    case renew
    /// `PATCH /v3/licenses/{id}/expires-at` with the row's `expiresAt` (`perpetual`: none).
    case setExpiry = "set-expiry"
    case suspend, unsuspend, revoke, unrevoke
    /// `DELETE /v3/licenses/{id}`.
    case delete

    /// Reads a cell or flag value: any case, `_` or a space for `-` (`Set Expiry`, `set_expiry`).
    package init?(text: String) {
        let normalized = text.trimmingCharacters(in: .whitespaces).lowercased().replacingOccurrences(of: "_", with: "-")
            .replacingOccurrences(of: " ", with: "-")
        self.init(rawValue: normalized)
    }

    package static var names: String { allCases.map(\.rawValue).joined(separator: ", ") }

    /// Whether this action changes a license that exists (all but `create`).
    package var isChange: Bool { self != .create }
}

/// How a change row names the license it changes.
package enum LicenseTarget: Sendable, Hashable {
    /// A `licenseId` column.
    case id(String)
    /// A `key` column: the license with that key.
    case key(String)
    /// `--target-metadata NAME`: the license whose metadata entry NAME holds `value`.
    case metadata(name: String, value: String)

    /// For messages: `license 3f2…`, `key ABC…`, `order_id=ORD-7`.
    package var description: String {
        switch self {
        case .id(let id): "licenseId \(id)"
        case .key(let key): "key \(key)"
        case .metadata(let name, let value): "\(name)=\(value)"
        }
    }

    /// How the journal keeps it: `{"id":"…"}`, `{"key":"…"}` or `{"metadata":"NAME","value":"…"}`.
    package var journalText: String {
        let object: [String: String] =
            switch self {
            case .id(let id): ["id": id]
            case .key(let key): ["key": key]
            case .metadata(let name, let value): ["metadata": name, "value": value]
            }
        let data =
            (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]))
            ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    /// Reads ``journalText``; nil for anything else.
    package init?(journalText text: String) {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: String] else {
            return nil
        }
        if let id = object["id"] {
            self = .id(id)
        } else if let key = object["key"] {
            self = .key(key)
        } else if let name = object["metadata"], let value = object["value"] {
            self = .metadata(name: name, value: value)
        } else {
            return nil
        }
    }
}

/// The new expiry of a `set-expiry` row.
package enum ExpiryChange: Sendable, Hashable {
    case date(String)
    /// `perpetual`: the license never expires.
    case perpetual
}

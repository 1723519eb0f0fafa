/// The parts of a `LicenseDto` that licprov reads back. Unknown fields are ignored.
package struct License: Decodable, Sendable, Equatable {
    package var id: String
    package var key: String
    package var productId: String?
    package var userId: String?
    package var createdAt: CryptlexTimestamp?
    package var metadata: [Metadata]
    /// As the server wrote it (compared as text: a renewal is settled by whether it changed).
    package var expiresAt: String?
    package var revoked: Bool?
    package var suspended: Bool?
    package var subscriptionInterval: String?

    /// A metadata entry as Cryptlex returns it.
    package struct Metadata: Decodable, Sendable, Equatable {
        package var key: String
        package var value: String
    }

    enum CodingKeys: String, CodingKey {
        case id, key, productId, userId, createdAt, metadata, expiresAt, revoked, suspended, subscriptionInterval
    }

    package init(
        id: String, key: String, productId: String? = nil, userId: String? = nil, createdAt: CryptlexTimestamp? = nil,
        metadata: [Metadata] = [],
        expiresAt: String? = nil, revoked: Bool? = nil, suspended: Bool? = nil, subscriptionInterval: String? = nil
    ) {
        self.expiresAt = expiresAt
        self.revoked = revoked
        self.suspended = suspended
        self.subscriptionInterval = subscriptionInterval
        self.id = id
        self.key = key
        self.productId = productId
        self.userId = userId
        self.createdAt = createdAt
        self.metadata = metadata
    }

    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        key = try container.decode(String.self, forKey: .key)
        productId = try container.decodeIfPresent(String.self, forKey: .productId)
        userId = try container.decodeIfPresent(String.self, forKey: .userId)
        createdAt = try container.decodeIfPresent(CryptlexTimestamp.self, forKey: .createdAt)
        metadata = try container.decodeIfPresent([Metadata].self, forKey: .metadata) ?? []
        expiresAt = try container.decodeIfPresent(String.self, forKey: .expiresAt)
        revoked = try container.decodeIfPresent(Bool.self, forKey: .revoked)
        suspended = try container.decodeIfPresent(Bool.self, forKey: .suspended)
        subscriptionInterval = try container.decodeIfPresent(String.self, forKey: .subscriptionInterval)
    }

    /// The value of the first metadata entry named `key`, compared exactly.
    package func metadataValue(forKey key: String) -> String? {
        metadata.first { $0.key == key }?.value
    }
}

/// The parts of a `UserDto` that licprov reads back.
package struct User: Decodable, Sendable, Equatable {
    package var id: String
    package var email: String
    package var firstName: String?
    package var lastName: String?
    /// The organization the user belongs to (nil: none).
    package var organizationId: String?
}

/// The parts of a `ProductDto` that licprov reads (`licprov doctor`). Unknown fields are ignored.
package struct Product: Decodable, Sendable, Equatable {
    package var id: String
    package var name: String?
    package var totalLicenses: Int?
}

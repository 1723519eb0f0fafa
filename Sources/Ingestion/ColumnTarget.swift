/// Where a column's cells go.
enum ColumnTarget: Sendable {
    /// An index into ``LicenseFieldTable/all``.
    case field(Int)
    case metadataKey(String)
    case customer(CustomerField)
    case quantity
    case ignored
    case unknown

    enum CustomerField: String, Sendable, CaseIterable { case email, firstName, lastName, company }

    /// Resolves a column name: body fields (any case, spaces or underscores), `metadata.<key>`,
    /// customer columns and `quantity`.
    static func resolve(_ name: String, policy: UnknownColumnPolicy) -> ColumnTarget {
        if let exact = exactNames[name] { return exact }
        let trimmed = name.trimmed
        if trimmed.count > 9, trimmed.prefix(9).lowercased() == "metadata." {
            return .metadataKey(String(trimmed.dropFirst(9)))
        }
        let normalized = LicenseFieldTable.normalize(trimmed)
        if let index = LicenseFieldTable.indexByNormalizedName[normalized] { return .field(index) }
        if let customer = CustomerField.allCases.first(where: { $0.rawValue.lowercased() == normalized }) { return .customer(customer) }
        if normalized == "quantity" || normalized == "qty" { return .quantity }
        switch policy {
        case .error: return .unknown
        case .metadata: return .metadataKey(trimmed)
        case .ignore: return .ignored
        }
    }

    /// Targets by their exact spelling: the fast path for JSON keys, which repeat on every row.
    private static let exactNames: [String: ColumnTarget] = {
        var names: [String: ColumnTarget] = [:]
        for (index, field) in LicenseFieldTable.all.enumerated() { names[field.name] = .field(index) }
        for field in CustomerField.allCases { names[field.rawValue] = .customer(field) }
        names["quantity"] = .quantity
        return names
    }()

    /// The name a target is reported under; two columns with one key are a header error.
    var identity: String? {
        switch self {
        case .field(let index): LicenseFieldTable.all[index].name
        case .metadataKey(let key): "metadata.\(key)"
        case .customer(let field): field.rawValue
        case .quantity: "quantity"
        case .ignored, .unknown: nil
        }
    }

    /// "did you mean …?" for an unknown column: the nearest known name within a few edits.
    static func suggestion(for name: String) -> String? {
        let target = LicenseFieldTable.normalize(name)
        let candidates = LicenseFieldTable.all.map(\.name) + CustomerField.allCases.map(\.rawValue) + ["quantity"]
        let scored = candidates.map { ($0, editDistance(target, LicenseFieldTable.normalize($0))) }
        guard let best = scored.min(by: { $0.1 < $1.1 }), best.1 <= max(2, target.count / 3) else { return nil }
        return best.0
    }

    private static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a.utf8), b = Array(b.utf8)
        var previous = Array(0...b.count)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in stride(from: 1, through: b.count, by: 1) {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return a.isEmpty ? b.count : previous[b.count]
    }
}

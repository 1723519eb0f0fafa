import FileFormats

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Where a column's cells go.
enum ColumnTarget: Sendable {
    /// An index into ``LicenseFieldTable/all``.
    case field(Int)
    case metadataKey(String)
    case customer(CustomerField)
    /// An `organization.*` or `reseller.*` column.
    case directory(DirectoryField)
    case quantity
    /// What the row does (`create`, `renew`, …).
    case action
    /// The license a change row changes.
    case licenseId
    /// (A value table's entries only.) `skip`: the row is skipped, with this reason (an order not
    /// paid yet); `warning`: said about the row, which goes on (partially refunded).
    case skip
    case warning
    case ignored
    case unknown

    enum CustomerField: String, Sendable, CaseIterable {
        case email, firstName, lastName, company
        /// A whole name (`Billing Name`): its first word the first name, the rest the last name,
        /// where the row gives neither.
        case fullName

        /// The field's position among them, without building `allCases` (an array each time).
        var ordinal: Int {
            switch self {
            case .email: 0
            case .firstName: 1
            case .lastName: 2
            case .company: 3
            case .fullName: 4
            }
        }
    }

    /// What a value table's entry may set: every column target, and `skip` and `warning`.
    static func resolveTableField(_ name: String) -> ColumnTarget {
        switch name {
        case "skip": .skip
        case "warning": .warning
        default: resolve(name, policy: .error)
        }
    }

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
        if let customer = CustomerField.allCases.first(where: { $0.rawValue.lowercased() == normalized }) {
            return .customer(customer)
        }
        if let field = DirectoryField.byNormalizedName[normalized] { return .directory(field) }
        if normalized == "quantity" || normalized == "qty" { return .quantity }
        if normalized == "action" { return .action }
        if normalized == "licenseid" { return .licenseId }
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
        names["action"] = .action
        names["licenseId"] = .licenseId
        return names
    }()

    /// The same target with its own copy of any text (see ``RowBuilder/unshared()``).
    var unshared: ColumnTarget {
        if case .metadataKey(let key) = self { return .metadataKey(key.unshared) }
        return self
    }

    /// The name a target is reported under; two columns with one key are a header error.
    var identity: String? {
        switch self {
        case .field(let index): LicenseFieldTable.all[index].name
        case .metadataKey(let key): "metadata.\(key)"
        case .customer(let field): field.rawValue
        case .directory(let field): field.rawValue
        case .quantity: "quantity"
        case .action: "action"
        case .licenseId: "licenseId"
        case .skip: "skip"
        case .warning: "warning"
        case .ignored, .unknown: nil
        }
    }

    /// "did you mean …?" for an unknown column: the nearest known name within a few edits.
    static func suggestion(for name: String) -> String? {
        let candidates =
            LicenseFieldTable.all.map(\.name) + CustomerField.allCases.map(\.rawValue)
            + DirectoryField.allCases.map(\.rawValue) + ["quantity", "action", "licenseId"]
        return NearestName.find(name, among: candidates, normalize: LicenseFieldTable.normalize)
    }
}

/// "did you mean …?": the candidate fewest edits away (Levenshtein), when it is within a few edits
/// (at most 2, or a third of the name). For unknown columns, `--set` fields and config keys.
package enum NearestName {
    package static func find(
        _ name: String, among candidates: some Sequence<String>, normalize: (String) -> String = { $0 }
    ) -> String? {
        let target = normalize(name)
        let scored = candidates.map { ($0, distance(target, normalize($0))) }.min { ($0.1, $0.0) < ($1.1, $1.0) }
        guard let best = scored, best.1 <= max(2, target.count / 3) else { return nil }
        return best.0
    }

    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a.utf8)
        let b = Array(b.utf8)
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

extension ColumnTarget {
    /// The target of a name spelt exactly as the schema spells it (or as a customer column, or
    /// `quantity`), looked up from its bytes: the fast path for JSON keys, which repeat on every
    /// row, without making a string. Nil for any other spelling (resolve those by name).
    static func exact(_ name: UnsafeBufferPointer<UInt8>) -> ColumnTarget? {
        ExactNameTable.shared.lookup(name)
    }
}

/// An open-addressing table from name bytes to targets, built once and never freed: plain
/// memory, so the workers that read it at once share no reference count.
private struct ExactNameTable: @unchecked Sendable {
    private struct Entry {
        var name: UnsafeMutablePointer<UInt8>?
        var count = 0
        /// 0..<100: a body field; 100 + n: customer field n; 200: quantity; 201: action; 202: licenseId.
        var code = 0
    }

    static let shared = ExactNameTable()
    private static let slots = 256
    private let entries: UnsafeMutablePointer<Entry>

    private init() {
        entries = .allocate(capacity: Self.slots)
        entries.initialize(repeating: Entry(), count: Self.slots)
        var names: [(String, Int)] = LicenseFieldTable.all.enumerated().map { ($1.name, $0) }
        names += ColumnTarget.CustomerField.allCases.map { ($0.rawValue, 100 + $0.ordinal) }
        names.append(("quantity", 200))
        names.append(("action", 201))
        names.append(("licenseId", 202))
        for (name, code) in names {
            let bytes = Array(name.utf8)
            let copy = UnsafeMutablePointer<UInt8>.allocate(capacity: bytes.count)
            copy.initialize(from: bytes, count: bytes.count)
            var slot = bytes.withUnsafeBufferPointer { Self.slot(of: $0) }
            while entries[slot].name != nil { slot = (slot + 1) % Self.slots }
            entries[slot] = Entry(name: copy, count: bytes.count, code: code)
        }
    }

    /// The home slot of a name, from its length and its first and last eight bytes (two loads,
    /// not a loop over every byte: the schema's names differ there).
    private static func slot(of name: UnsafeBufferPointer<UInt8>) -> Int {
        let raw = UnsafeRawBufferPointer(name)
        var head: UInt64 = 0
        var tail: UInt64 = 0
        if raw.count >= 8 {
            head = raw.loadUnaligned(as: UInt64.self)
            tail = raw.loadUnaligned(fromByteOffset: raw.count - 8, as: UInt64.self)
        } else {
            for (index, byte) in raw.enumerated() { head |= UInt64(byte) << UInt64(8 * index) }
        }
        let mixed = (head &* 0x9E37_79B9_7F4A_7C15) ^ (tail &* 0xC2B2_AE3D_27D4_EB4F) ^ UInt64(raw.count)
        return Int(truncatingIfNeeded: (mixed ^ (mixed >> 29)) % UInt64(slots))
    }

    func lookup(_ name: UnsafeBufferPointer<UInt8>) -> ColumnTarget? {
        guard !name.isEmpty else { return nil }
        var slot = Self.slot(of: name)
        while let stored = entries[slot].name {
            if entries[slot].count == name.count, memcmp(stored, name.baseAddress!, name.count) == 0 {
                let code = entries[slot].code
                switch code {
                case ..<100: return .field(code)
                case 100: return .customer(.email)
                case 101: return .customer(.firstName)
                case 102: return .customer(.lastName)
                case 103: return .customer(.company)
                case 201: return .action
                case 202: return .licenseId
                default: return .quantity
                }
            }
            slot = (slot + 1) % Self.slots
        }
        return nil
    }
}

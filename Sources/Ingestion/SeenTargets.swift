/// The targets one JSON object has set so far: a bit per body field, customer field and quantity
/// (no strings made or compared), and the metadata keys by name.
struct SeenTargets {
    private var bits: (UInt64, UInt64) = (0, 0)
    private var metadataKeys: [String] = []

    /// Records `target`; false when it was set before.
    mutating func insert(_ target: ColumnTarget) -> Bool {
        let bit: Int
        switch target {
        case .field(let index): bit = index
        case .customer(let field): bit = 100 + field.ordinal
        case .quantity: bit = 110
        case .action: bit = 111
        case .licenseId: bit = 112
        case .directory(let field): bit = 113 + (DirectoryField.allCases.firstIndex(of: field) ?? 0)
        case .metadataKey(let key):
            if metadataKeys.contains(key) { return false }
            metadataKeys.append(key)
            return true
        case .ignored, .unknown, .skip, .warning: return true
        }
        if bit < 64 {
            let mask: UInt64 = 1 << UInt64(bit)
            defer { bits.0 |= mask }
            return bits.0 & mask == 0
        }
        let mask: UInt64 = 1 << UInt64(bit - 64)
        defer { bits.1 |= mask }
        return bits.1 & mask == 0
    }
}

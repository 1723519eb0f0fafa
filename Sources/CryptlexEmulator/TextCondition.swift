/// One operator of a deep-object string filter, as the schema subset declares them:
/// `eq ne sw ew cn nc` take one value, `in nin` comma-separated values.
///
/// On a field with many values (metadata entries, tags), a positive operator (`eq sw ew cn in`)
/// matches when any value satisfies it, and a negative one (`ne nc nin`) when none satisfies its
/// positive counterpart.
public struct TextCondition: Sendable, Equatable {
    public enum Operator: String, Sendable, CaseIterable {
        case eq, ne, sw, ew, cn, nc, `in`, nin

        /// The positive operator a negative one denies (itself for a positive one).
        var positive: Operator {
            switch self {
            case .ne: .eq
            case .nc: .cn
            case .nin: .in
            default: self
            }
        }
        var isNegative: Bool { positive != self }
    }

    /// The operators on identifiers and enumerations (`productId`, `id`): no substring search.
    public static let identity: Set<Operator> = [.eq, .ne, .in, .nin]
    /// The operators on free text (`key`, `metadata.*`, emails).
    public static let text = Set(Operator.allCases)

    public var op: Operator
    /// One value, or the comma-separated values of `in` and `nin`.
    public var values: [String]
    public var caseInsensitive = false

    /// Parses `name[op]` = `value` for a field allowing `allowed`; nil when `name` is not this field.
    static func parse(name: String, field: String, value: String, allowed: Set<Operator>, caseInsensitive: Bool = false)
        throws(EmulatorStore.Rejection) -> TextCondition?
    {
        guard name.hasPrefix(field + "["), name.hasSuffix("]") else { return nil }
        let raw = String(name.dropFirst(field.count + 1).dropLast())
        guard let op = Operator(rawValue: raw), allowed.contains(op) else {
            throw EmulatorStore.Rejection(
                status: 400,
                message: "The operator '\(raw)' is not supported on '\(field)' "
                    + "(supported: \(allowed.map(\.rawValue).sorted().joined(separator: ", "))).", code: nil)
        }
        let values =
            op == .in || op == .nin
            ? value.split(separator: ",", omittingEmptySubsequences: false).map(String.init) : [value]
        return TextCondition(op: op, values: values, caseInsensitive: caseInsensitive)
    }

    /// Whether a field with these values satisfies the condition.
    func matches(_ fieldValues: [String]) -> Bool {
        let wanted = caseInsensitive ? values.map { $0.lowercased() } : values
        let positive = fieldValues.contains { raw in
            let value = caseInsensitive ? raw.lowercased() : raw
            switch op.positive {
            case .eq: return value == wanted[0]
            case .sw: return value.hasPrefix(wanted[0])
            case .ew: return value.hasSuffix(wanted[0])
            case .cn: return value.contains(wanted[0])
            case .in: return wanted.contains(value)
            default: return false
            }
        }
        return op.isNegative ? !positive : positive
    }

    /// The values an index can be probed with: those of `eq` and `in`.
    var exactValues: [String]? { op == .eq || op == .in ? values : nil }
}

/// `page` (from 1) and `limit` (1–100), as every list route reads them.
enum ListPage {
    static func read(_ name: String, _ value: String, page: inout Int, limit: inout Int) throws(EmulatorStore.Rejection)
    {
        if name == "page" {
            guard let number = Int(value), number >= 1 else {
                throw .init(status: 400, message: "page must be an integer of at least 1.", code: nil)
            }
            page = number
        } else {
            guard let number = Int(value), (1...100).contains(number) else {
                throw .init(status: 400, message: "limit must be an integer from 1 to 100.", code: nil)
            }
            limit = number
        }
    }
}

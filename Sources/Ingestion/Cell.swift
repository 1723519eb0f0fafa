/// One input value before it is typed: CSV gives text, JSON gives a JSON value.
public enum Cell: Sendable, Equatable {
    case text(String)
    case json(JSONCell)

    /// True for an empty CSV cell or a JSON null: the row does not set the field.
    var isAbsent: Bool {
        switch self {
        case .text(let text): text.isEmpty
        case .json(.null): true
        case .json: false
        }
    }
}

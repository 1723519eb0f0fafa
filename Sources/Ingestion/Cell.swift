import FileFormats

/// One input value before it is typed: CSV gives text, JSON gives a JSON value.
package enum Cell: Sendable, Equatable {
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

    /// The same cell with its own copy of its text (see ``RowBuilder/unshared()``). Used for
    /// values from flags, which are text.
    var unshared: Cell {
        if case .text(let text) = self { return .text(text.unshared) }
        return self
    }
}

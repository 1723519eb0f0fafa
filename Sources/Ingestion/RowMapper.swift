import CryptlexAPI

/// Maps one row's cells onto a ``LicenseRequest``, a customer and a quantity, then validates it.
struct RowMapper {
    /// A cell with where it goes and the name to report it under.
    struct Placed {
        var target: ColumnTarget
        var cell: Cell
        var label: String
    }

    let file: String
    /// Values from flags, applied before the row's own cells.
    let defaults: [Placed]

    init(file: String, defaults: [(String, String)]) throws(IngestionError) {
        self.file = file
        var placed: [Placed] = []
        for (name, value) in defaults {
            let target = ColumnTarget.resolve(name, policy: .error)
            switch target {
            case .unknown, .ignored:
                let hint = ColumnTarget.suggestion(for: name).map { " (did you mean \($0)?)" } ?? ""
                throw .badOption("--set \(name)=…: \(name) is not a license field\(hint)")
            case .field(let field):
                if case .failure(let problem) = CellParser.parse(.text(value), as: field.kind) {
                    throw .badOption("--set \(name)=\(value): \(field.name) \(problem.message)")
                }
            default: break
            }
            placed.append(Placed(target: target, cell: .text(value), label: name))
        }
        self.defaults = placed
    }

    func map(_ cells: [Placed], position: SourcePosition, rowID: String, diagnostics initial: [Diagnostic]) -> OrderRow {
        var diagnostics = initial
        func problem(_ field: String?, _ message: String) {
            diagnostics.append(Diagnostic(file: file, line: position.line, field: field, message: message))
        }
        var request = LicenseRequest(productId: "")
        var metadataOrder: [String] = []
        var metadata: [String: LicenseMetadata] = [:]
        var customerFields: [ColumnTarget.CustomerField: String] = [:]
        var quantity = 1

        func addMetadata(_ entry: LicenseMetadata) {
            if metadata[entry.key] == nil { metadataOrder.append(entry.key) }
            metadata[entry.key] = entry
        }

        for placed in defaults + cells where !placed.cell.isAbsent {
            switch placed.target {
            case .field(let field):
                switch CellParser.parse(placed.cell, as: field.kind) {
                case .success(.metadata(let entries)): entries.forEach(addMetadata)
                case .success(let value): field.apply(value, to: &request)
                case .failure(let failure): problem(placed.label, failure.message)
                }
            case .metadataKey(let key):
                switch CellParser.text(placed.cell) {
                case .success(let text): addMetadata(LicenseMetadata(key: key, value: text))
                case .failure(let failure): problem(placed.label, failure.message)
                }
            case .customer(let field):
                switch CellParser.text(placed.cell) {
                case .success(let text): customerFields[field] = text.trimmed
                case .failure(let failure): problem(placed.label, failure.message)
                }
            case .quantity:
                switch CellParser.integer(placed.cell) {
                case .success(let value) where (1...10_000).contains(value): quantity = Int(value)
                case .success(let value): problem(placed.label, "must be from 1 to 10000, not \(value)")
                case .failure(let failure): problem(placed.label, failure.message)
                }
            case .ignored, .unknown:
                break
            }
        }
        if !metadataOrder.isEmpty { request.metadata = metadataOrder.compactMap { metadata[$0] } }
        for found in LicenseValidator.problems(in: request) { problem(found.field, found.message) }

        var customer: Customer?
        if let email = customerFields[.email], !email.isEmpty {
            if !Self.looksLikeEmail(email) { problem("email", "is not an email address: \"\(email.prefix(60))\"") }
            customer = Customer(email: email, firstName: customerFields[.firstName], lastName: customerFields[.lastName], company: customerFields[.company])
        } else if let other = customerFields.keys.first(where: { $0 != .email }) {
            problem(other.rawValue, "is given but email is empty; a customer is identified by email")
        }
        if request.key != nil, quantity > 1 {
            problem("quantity", "must be 1 for a row with its own key (a key belongs to one license), not \(quantity)")
        }
        return OrderRow(position: position, rowID: rowID, request: request, customer: customer, quantity: quantity, diagnostics: diagnostics)
    }

    static func looksLikeEmail(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        return parts.count == 2 && !parts[0].isEmpty && parts[1].contains(".") && !parts[1].hasPrefix(".")
            && !parts[1].hasSuffix(".") && !text.contains(" ")
    }
}

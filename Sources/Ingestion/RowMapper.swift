import CryptlexAPI

/// Maps one row's cells onto a ``LicenseRequest``, a customer and a quantity, then validates it.
struct RowMapper: Sendable {
    /// A cell with where it goes and the name to report it under.
    struct Placed: Sendable {
        var target: ColumnTarget
        var cell: Cell
        /// The name to report the cell under: its own (JSON keys, flags), or nil to look the
        /// column up in the `labels` given to ``map`` (CSV, where the header is shared by every row).
        var label: String?
        var column: Int = 0
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
            case .field(let index):
                let field = LicenseFieldTable.all[index]
                if case .failure(let problem) = CellParser.parse(.text(value), as: field.kind) {
                    throw .badOption("--set \(name)=\(value): \(field.name) \(problem.message)")
                }
            default: break
            }
            placed.append(Placed(target: target, cell: .text(value), label: name))
        }
        self.defaults = placed
    }

    func map(_ cells: [Placed], labels: [String] = [], position: SourcePosition, rowID: String, diagnostics initial: [Diagnostic]) -> OrderRow {
        var diagnostics = initial
        func problem(_ field: String?, _ message: String) {
            diagnostics.append(Diagnostic(file: file, line: position.line, field: field, message: message))
        }
        var request = LicenseRequest(productId: "")
        var metadata: [LicenseMetadata] = []
        var email: String?, firstName: String?, lastName: String?, company: String?
        var quantity = 1

        /// A later value for a metadata key replaces the earlier one in place (a row wins over a default).
        func addMetadata(_ entry: LicenseMetadata) {
            if let index = metadata.firstIndex(where: { $0.key == entry.key }) { metadata[index] = entry } else { metadata.append(entry) }
        }

        func place(_ placed: Placed) {
            guard !placed.cell.isAbsent else { return }
            var label: String { placed.label ?? (labels.indices.contains(placed.column) ? labels[placed.column] : "column \(placed.column + 1)") }
            switch placed.target {
            case .field(let index):
                switch CellParser.parse(placed.cell, as: LicenseFieldTable.kinds[index]) {
                case .success(.metadata(let entries)): entries.forEach(addMetadata)
                case .success(let value): LicenseFieldTable.store[index](&request, value)
                case .failure(let failure): problem(label, failure.message)
                }
            case .metadataKey(let key):
                switch CellParser.text(placed.cell) {
                case .success(let text): addMetadata(LicenseMetadata(key: key, value: text))
                case .failure(let failure): problem(label, failure.message)
                }
            case .customer(let field):
                switch CellParser.text(placed.cell) {
                case .success(let text):
                    switch field {
                    case .email: email = text.trimmed
                    case .firstName: firstName = text.trimmed
                    case .lastName: lastName = text.trimmed
                    case .company: company = text.trimmed
                    }
                case .failure(let failure): problem(label, failure.message)
                }
            case .quantity:
                switch CellParser.integer(placed.cell) {
                case .success(let value) where (1...10_000).contains(value): quantity = Int(value)
                case .success(let value): problem(label, "must be from 1 to 10000, not \(value)")
                case .failure(let failure): problem(label, failure.message)
                }
            case .ignored, .unknown:
                break
            }
        }
        for placed in defaults { place(placed) }
        for placed in cells { place(placed) }
        if !metadata.isEmpty { request.metadata = metadata }
        for found in LicenseValidator.problems(in: request) { problem(found.field, found.message) }

        var customer: Customer?
        if let email, !email.isEmpty {
            if !Self.looksLikeEmail(email) { problem("email", "is not an email address: \"\(email.prefix(60))\"") }
            customer = Customer(email: email, firstName: firstName, lastName: lastName, company: company)
        } else if let other = [("firstName", firstName), ("lastName", lastName), ("company", company)].first(where: { $0.1 != nil }) {
            problem(other.0, "is given but email is empty; a customer is identified by email")
        }
        if request.key != nil, quantity > 1 {
            problem("quantity", "must be 1 for a row with its own key (a key belongs to one license), not \(quantity)")
        }
        return OrderRow(position: position, rowID: rowID, request: request, customer: customer, quantity: quantity, diagnostics: diagnostics)
    }

    /// One `@` with text before it, a domain with an inner dot after it, no spaces.
    static func looksLikeEmail(_ text: String) -> Bool {
        var copy = text
        return copy.withUTF8 { bytes in
            var at = -1, lastDot = -1
            for index in 0..<bytes.count {
                switch bytes[index] {
                case UInt8(ascii: "@"):
                    if at >= 0 { return false }
                    at = index
                case UInt8(ascii: "."):
                    if at >= 0 { if index == at + 1 { return false }; lastDot = index }
                case 0x20, 0x09, 0x0A, 0x0D:
                    return false
                default: break
                }
            }
            return at > 0 && lastDot > at + 1 && lastDot < bytes.count - 1
        }
    }
}

import CryptlexAPI

/// Maps one row's cells onto a ``LicenseRequest``, a customer and a quantity, then validates it.
struct RowMapper: Sendable {
    /// A value from a flag, with where it goes and the name to report it under.
    struct Placed: Sendable {
        var target: ColumnTarget
        var cell: Cell
        var label: String
    }

    private(set) var file: String
    /// Values from flags, applied before the row's own cells.
    private(set) var defaults: [Placed]
    /// The zone of date-times written without one (`--time-zone`); nil refuses them.
    let timeZone: LocalTimeZone?

    /// A copy that shares no string or array with this one (see ``RowBuilder/unshared()``).
    func unshared() -> RowMapper {
        var copy = self
        copy.file = file.unshared
        copy.defaults = defaults.map { Placed(target: $0.target.unshared, cell: $0.cell.unshared, label: $0.label.unshared) }
        return copy
    }

    init(file: String, defaults: [(String, String)], timeZone: LocalTimeZone? = nil) throws(IngestionError) {
        self.file = file
        self.timeZone = timeZone
        var placed: [Placed] = []
        for (name, value) in defaults {
            let target = ColumnTarget.resolve(name, policy: .error)
            switch target {
            case .unknown, .ignored:
                let hint = ColumnTarget.suggestion(for: name).map { " (did you mean \($0)?)" } ?? ""
                throw .badOption("--set \(name)=…: \(name) is not a license field\(hint)")
            case .field(let index):
                let field = LicenseFieldTable.all[index]
                if case .failure(let problem) = CellParser.parse(.text(value), as: field.kind, zone: timeZone) {
                    throw .badOption("--set \(name)=\(value): \(field.name) \(problem.message)")
                }
            default: break
            }
            placed.append(Placed(target: target, cell: .text(value), label: name))
        }
        self.defaults = placed
    }

    /// One row's cells gathered so far: start with ``RowMapper/start(position:)``,
    /// ``RowMapper/place(_:_:label:into:)`` each cell, then ``RowMapper/finish(_:rowID:idIsFromColumn:leading:)``.
    /// (Cells go straight into the request: no list of cells is built per row.)
    struct Assembly {
        var position: SourcePosition
        /// Problems with the cells placed so far.
        var diagnostics: [Diagnostic] = []
        var request = LicenseRequest(productId: "")
        var metadata: [LicenseMetadata] = []
        var email: String?, firstName: String?, lastName: String?, company: String?
        var quantity = 1

        /// A later value for a metadata key replaces the earlier one in place (a row wins over a default).
        mutating func addMetadata(_ entry: LicenseMetadata) {
            if let index = metadata.firstIndex(where: { $0.key == entry.key }) { metadata[index] = entry } else { metadata.append(entry) }
        }
    }

    /// A new row, with the defaults from flags already placed.
    func start(position: SourcePosition) -> Assembly {
        var assembly = Assembly(position: position)
        for index in 0..<defaults.count { place(defaults[index].target, defaults[index].cell, label: defaults[index].label, into: &assembly) }
        return assembly
    }

    /// Types `cell` for `target` and stores it; a problem is reported under `label` (made only then).
    func place(_ target: ColumnTarget, _ cell: Cell, label: @autoclosure () -> String, into row: inout Assembly) {
        guard !cell.isAbsent else { return }
        func problem(_ message: String) {
            row.diagnostics.append(Diagnostic(file: file, line: row.position.line, field: label(), message: message))
        }
        switch target {
        case .field(let index):
            switch CellParser.parse(cell, as: LicenseFieldTable.kinds[index], zone: timeZone) {
            case .success(.metadata(let entries)): for entry in entries { row.addMetadata(entry) }
            case .success(let value): LicenseFieldTable.store[index](&row.request, value)
            case .failure(let failure): problem(failure.message)
            }
        case .metadataKey(let key):
            switch CellParser.text(cell) {
            case .success(let text): row.addMetadata(LicenseMetadata(key: key, value: text))
            case .failure(let failure): problem(failure.message)
            }
        case .customer(let field):
            switch CellParser.text(cell) {
            case .success(let text):
                switch field {
                case .email: row.email = text.trimmed
                case .firstName: row.firstName = text.trimmed
                case .lastName: row.lastName = text.trimmed
                case .company: row.company = text.trimmed
                }
            case .failure(let failure): problem(failure.message)
            }
        case .quantity:
            switch CellParser.integer(cell) {
            case .success(let value) where (1...10_000).contains(value): row.quantity = Int(value)
            case .success(let value): problem("must be from 1 to 10000, not \(value)")
            case .failure(let failure): problem(failure.message)
            }
        case .ignored, .unknown:
            break
        }
    }

    /// Validates the gathered row and makes it an ``OrderRow``; `leading` are the row's problems
    /// found before its cells were read (the record's own, its id's), listed first. The request
    /// and the problems are moved out of `row`, not copied.
    func finish(_ row: inout Assembly, rowID: String, idIsFromColumn: Bool, leading: [Diagnostic]) -> OrderRow {
        if !leading.isEmpty { row.diagnostics = leading + row.diagnostics }
        let line = row.position.line
        func problem(_ field: String?, _ message: String) {
            row.diagnostics.append(Diagnostic(file: file, line: line, field: field, message: message))
        }
        if !row.metadata.isEmpty {
            var metadata: [LicenseMetadata] = []
            swap(&metadata, &row.metadata)
            row.request.metadata = metadata
        }
        for found in LicenseValidator.problems(in: row.request) { problem(found.field, found.message) }

        var customer: Customer?
        if let email = row.email, !email.isEmpty {
            if !Self.looksLikeEmail(email) { problem("email", "is not an email address: \"\(email.prefix(60))\"") }
            customer = Customer(email: email, firstName: row.firstName, lastName: row.lastName, company: row.company)
        } else if let other = row.firstName != nil ? "firstName" : row.lastName != nil ? "lastName" : row.company != nil ? "company" : nil {
            problem(other, "is given but email is empty; a customer is identified by email")
        }
        if row.request.key != nil, row.quantity > 1 {
            problem("quantity", "must be 1 for a row with its own key (a key belongs to one license), not \(row.quantity)")
        }
        var request = LicenseRequest(productId: "")
        swap(&request, &row.request)
        var diagnostics: [Diagnostic] = []
        swap(&diagnostics, &row.diagnostics)
        var built = OrderRow(position: row.position, rowID: rowID, request: request, customer: customer, quantity: row.quantity, diagnostics: diagnostics)
        built.idIsFromColumn = idIsFromColumn
        return built
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

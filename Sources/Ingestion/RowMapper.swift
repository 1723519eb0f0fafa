import CryptlexModels
import FileFormats

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
    /// The directory fields `--set` gives every row (a change row ignores them).
    private(set) var defaultDirectory: Set<DirectoryField> = []
    /// Local date formats and the zone of date-times written without one (`--date-format`, `--time-zone`).
    private(set) var dates: DateReading
    /// The action of a row without an `action` cell (`--action`; `create` by default).
    let defaultAction: LicenseAction
    /// `--target-metadata NAME`: change rows find their license by this metadata entry.
    private(set) var targetMetadata: String?
    /// The id column (its value is the row id, not a cell of the assembly).
    private(set) var idColumn: String?
    /// What a run adds to each license it creates (see ``IngestOptions/markerKey``).
    private(set) var markerKey: String?
    /// What a row's quantity means (``IngestOptions/quantityMeaning``).
    var quantityMeaning: QuantityMeaning = .licenses
    private(set) var idMetadataKey: String?

    /// A copy that shares no string or array with this one (see ``RowBuilder/unshared()``).
    func unshared() -> RowMapper {
        var copy = self
        copy.file = file.unshared
        copy.targetMetadata = targetMetadata?.unshared
        copy.idColumn = idColumn?.unshared
        copy.markerKey = markerKey?.unshared
        copy.idMetadataKey = idMetadataKey?.unshared
        copy.defaults = defaults.map {
            Placed(target: $0.target.unshared, cell: $0.cell.unshared, label: $0.label.unshared)
        }
        copy.dates.format = dates.format?.unshared
        return copy
    }

    init(
        file: String, defaults: [(String, String)], dates: DateReading = DateReading(),
        defaultAction: LicenseAction = .create,
        targetMetadata: String? = nil, idColumn: String? = nil, markerKey: String? = nil, keepIDAsMetadata: Bool = false
    ) throws(IngestionError) {
        self.file = file
        self.markerKey = markerKey
        self.idMetadataKey = keepIDAsMetadata ? idColumn : nil
        self.dates = dates
        self.defaultAction = defaultAction
        self.targetMetadata = targetMetadata
        self.idColumn = idColumn
        var placed: [Placed] = []
        for (name, value) in defaults {
            let target = ColumnTarget.resolve(name, policy: .error)
            switch target {
            case .unknown, .ignored:
                let hint = ColumnTarget.suggestion(for: name).map { " (did you mean \($0)?)" } ?? ""
                throw .badOption("--set \(name)=…: \(name) is not a license field\(hint)")
            case .field(let index):
                let field = LicenseFieldTable.all[index]
                if case .failure(let problem) = CellParser.parse(.text(value), as: field.kind, dates: dates) {
                    throw .badOption("--set \(name)=\(value): \(field.name) \(problem.message)")
                }
            default: break
            }
            placed.append(Placed(target: target, cell: .text(value), label: name))
        }
        self.defaults = placed
        defaultDirectory = Set(placed.compactMap { if case .directory(let field) = $0.target { field } else { nil } })
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
        var email: String?, firstName: String?, lastName: String?, company: String?, fullName: String?
        /// Why the row is skipped (``OrderRow/skipped``), when it is.
        var skip: String?
        /// `organization.*` and `reseller.*` cells (empty, and not allocated, for most files).
        var directory: [DirectoryField: String] = [:]
        var quantity = 1
        var quantityGiven = false
        var action: LicenseAction?
        /// The action cell named no action: nothing else about the row can be judged.
        var actionUnknown = false
        var licenseID: String?
        /// `expiresAt` was `perpetual` (for set-expiry).
        var perpetual = false
        /// The body fields the row's cells placed, a bit per index of ``LicenseFieldTable/all`` (two words).
        var fieldsSet: (UInt64, UInt64) = (0, 0)
        /// Metadata keys the flags placed.
        var metadataFromDefaults: [String] = []

        mutating func noteField(_ index: Int) {
            if index < 64 { fieldsSet.0 |= 1 << UInt64(index) } else { fieldsSet.1 |= 1 << UInt64(index - 64) }
        }

        func isSet(_ index: Int) -> Bool {
            index < 64 ? fieldsSet.0 & (1 << UInt64(index)) != 0 : fieldsSet.1 & (1 << UInt64(index - 64)) != 0
        }

        /// A later value for a metadata key replaces the earlier one in place (a row wins over a default).
        mutating func addMetadata(_ entry: LicenseMetadata) {
            if let index = metadata.firstIndex(where: { $0.key == entry.key }) {
                metadata[index] = entry
            } else {
                metadata.append(entry)
            }
        }
    }

    /// A new row, with the defaults from flags already placed.
    func start(position: SourcePosition) -> Assembly {
        var assembly = Assembly(position: position)
        for index in 0..<defaults.count {
            place(defaults[index].target, defaults[index].cell, label: defaults[index].label, into: &assembly)
        }
        // Only the row's own cells count as what a change row sets (flags' values are for creates).
        assembly.fieldsSet = (0, 0)
        assembly.metadataFromDefaults = assembly.metadata.map(\.key)
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
            row.noteField(index)
            switch CellParser.parse(cell, as: LicenseFieldTable.kinds[index], dates: dates) {
            case .success(.metadata(let entries)): for entry in entries { row.addMetadata(entry) }
            case .success(let value): LicenseFieldTable.store[index](&row.request, value)
            case .failure(let failure):
                if index == LicenseFieldTable.expiresAtIndex, case .success(let text) = CellParser.text(cell),
                    text.trimmed.lowercased() == "perpetual"
                {
                    row.perpetual = true
                } else {
                    problem(failure.message)
                }
            }
        case .action:
            switch CellParser.text(cell) {
            case .success(let text) where text.trimmed.isEmpty: break
            case .success(let text):
                if let action = LicenseAction(text: text) {
                    row.action = action
                } else {
                    row.actionUnknown = true
                    problem("\"\(text.prefix(40))\" is not an action; expected one of \(LicenseAction.names)")
                }
            case .failure(let failure): problem(failure.message)
            }
        case .licenseId:
            switch CellParser.text(cell) {
            case .success(let text): if !text.trimmed.isEmpty { row.licenseID = text.trimmed }
            case .failure(let failure): problem(failure.message)
            }
        case .metadataKey(let key):
            switch CellParser.text(cell) {
            case .success(let text):
                row.addMetadata(LicenseMetadata(key: key, value: text))
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
                case .fullName: row.fullName = text.trimmed
                }
            case .failure(let failure): problem(failure.message)
            }
        case .directory(let field):
            switch CellParser.text(cell) {
            case .success(let text): row.directory[field] = text
            case .failure(let failure): problem(failure.message)
            }
        case .quantity:
            switch CellParser.integer(cell) {
            case .success(let value) where (1...10_000).contains(value):
                row.quantity = Int(value)
                row.quantityGiven = true
            case .success(let value): problem("must be from 1 to 10000, not \(value)")
            case .failure(let failure): problem(failure.message)
            }
        case .skip:
            if case .success(let text) = CellParser.text(cell), !text.trimmed.isEmpty {
                row.skip = row.skip ?? text.trimmed
            }
        case .warning:
            if case .success(let text) = CellParser.text(cell), !text.trimmed.isEmpty {
                row.diagnostics.append(
                    Diagnostic(
                        file: file, line: row.position.line, field: label(), message: text.trimmed, severity: .warning))
            }
        case .ignored, .unknown:
            break
        }
    }

    /// Validates the gathered row and makes it an ``OrderRow``; `leading` are the row's problems
    /// found before its cells were read (the record's own, its id's), listed first. The request
    /// and the problems are moved out of `row`, not copied.
    func finish(_ row: inout Assembly, rowID: String, idIsFromColumn: Bool, leading: [Diagnostic]) -> OrderRow {
        if let skip = row.skip {
            // Not a license to provision: nothing else about it is judged — but a problem of the
            // line itself (a broken record, an order's lines apart) is still the line's error.
            var skipped = OrderRow(
                position: row.position, rowID: rowID, request: LicenseRequest(productId: ""), customer: nil,
                quantity: 0, diagnostics: leading)
            skipped.idIsFromColumn = idIsFromColumn
            if !leading.contains(where: { $0.severity == .error }) { skipped.skipped = skip }
            return skipped
        }
        if !leading.isEmpty { row.diagnostics = leading + row.diagnostics }
        if let full = row.fullName, !full.isEmpty, row.firstName == nil, row.lastName == nil {
            let words = full.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
            row.firstName = words.first.map(String.init)
            row.lastName = words.count > 1 ? String(words[1]).trimmed : nil
        }
        let line = row.position.line
        func problem(_ field: String?, _ message: String) {
            row.diagnostics.append(Diagnostic(file: file, line: line, field: field, message: message))
        }
        if !row.metadata.isEmpty {
            var metadata: [LicenseMetadata] = []
            swap(&metadata, &row.metadata)
            row.request.metadata = metadata
        }
        if row.actionUnknown {
            var diagnostics: [Diagnostic] = []
            swap(&diagnostics, &row.diagnostics)
            return OrderRow(
                position: row.position, rowID: rowID, request: LicenseRequest(productId: ""), customer: nil,
                quantity: 1, diagnostics: diagnostics)
        }
        let action = row.action ?? defaultAction
        if action != .create {
            return finishChange(&row, action: action, rowID: rowID, idIsFromColumn: idIsFromColumn)
        }
        if row.licenseID != nil {
            problem(
                "licenseId",
                "is for rows that change a license (update, renew, …); a create row makes a new one, so leave it empty or set the row's action"
            )
        }
        if row.perpetual {
            problem(
                "expiresAt",
                "\"perpetual\" is for set-expiry rows; leave expiresAt empty for a new license that never expires")
        }
        for found in LicenseValidator.problems(in: row.request) { problem(found.field, found.message) }

        if quantityMeaning == .seats {
            // One license with that many seats (a row's own allowedActivations wins).
            if row.quantityGiven, row.request.allowedActivations == nil {
                row.request.allowedActivations = Int32(row.quantity)
            }
            row.quantity = 1
        }
        let customer = Self.customer(of: row, problem)
        if row.request.key != nil, row.quantity > 1 {
            problem(
                "quantity", "must be 1 for a row with its own key (a key belongs to one license), not \(row.quantity)")
        }
        let (organization, reseller) = DirectoryColumns.build(row.directory) { problem($0, $1) }
        if organization != nil, row.request.organizationId != nil {
            problem(
                "organizationId",
                "the row names its organization twice, by organizationId and by organization.name; keep one of the two")
        }
        if reseller != nil, row.request.resellerId != nil {
            problem(
                "resellerId",
                "the row names its reseller twice, by resellerId and by reseller.name; keep one of the two")
        }
        checkRoom(row.request.metadata ?? [], idIsFromColumn: idIsFromColumn, problem)
        var request = LicenseRequest(productId: "")
        swap(&request, &row.request)
        var diagnostics: [Diagnostic] = []
        swap(&diagnostics, &row.diagnostics)
        var built = OrderRow(
            position: row.position, rowID: rowID, request: request, customer: customer, quantity: row.quantity,
            diagnostics: diagnostics)
        built.idIsFromColumn = idIsFromColumn
        built.organization = organization
        built.reseller = reseller
        return built
    }

    /// Room for what a run adds to each license it creates — licprov's marker and the order id as
    /// metadata — and no clash with them: checked by validate as by run.
    private func checkRoom(_ metadata: [LicenseMetadata], idIsFromColumn: Bool, _ problem: (String?, String) -> Void) {
        if let markerKey {
            if metadata.count >= 50 {
                problem(
                    "metadata",
                    "\(metadata.count) metadata entries leave no room for licprov's marker (\(markerKey)); at most 49, or run with --no-marker"
                )
                return
            }
            if metadata.contains(where: { $0.key == markerKey }) {
                problem(
                    "metadata.\(markerKey)",
                    "this metadata key is licprov's marker; rename the column, or choose another marker with --marker-key"
                )
            }
        }
        let idKey = idIsFromColumn ? idMetadataKey : nil
        if let idKey, metadata.contains(where: { $0.key == idKey }) {
            problem(
                "metadata.\(idKey)",
                "the id column \(idKey) is kept as a metadata entry of that name already; drop this column or pass --no-id-metadata"
            )
        }
        let room = 50 - (markerKey == nil ? 0 : 1) - (idKey == nil ? 0 : 1)
        if metadata.count > room, metadata.count < 50 {
            problem(
                "metadata",
                "\(metadata.count) metadata entries leave no room for the entries licprov adds (its marker, the order id); at most \(room)"
            )
        }
    }

    /// One `@` with text before it, a domain with an inner dot after it, no spaces.
    /// The row's customer, from its email, firstName, lastName and company cells (nil: no email).
    /// A create row's license is made for it; an update row's license is linked to it.
    static func customer(of row: Assembly, _ problem: (String?, String) -> Void) -> Customer? {
        if row.email != nil, row.request.userId != nil {
            problem("userId", "the row names its user twice, by userId and by email; keep one of the two columns")
        }
        if let email = row.email, !email.isEmpty {
            if !looksLikeEmail(email) { problem("email", "is not an email address: \"\(email.prefix(60))\"") }
            return Customer(email: email, firstName: row.firstName, lastName: row.lastName, company: row.company)
        }
        if let other = row.firstName != nil
            ? "firstName" : row.lastName != nil ? "lastName" : row.company != nil ? "company" : nil
        {
            problem(other, "is given but email is empty; a customer is identified by email")
        }
        return nil
    }

    static func looksLikeEmail(_ text: String) -> Bool {
        var copy = text
        return copy.withUTF8 { bytes in
            var at = -1
            var lastDot = -1
            for index in 0..<bytes.count {
                switch bytes[index] {
                case UInt8(ascii: "@"):
                    if at >= 0 { return false }
                    at = index
                case UInt8(ascii: "."):
                    if at >= 0 {
                        if index == at + 1 { return false }
                        lastDot = index
                    }
                case 0x20, 0x09, 0x0A, 0x0D:
                    return false
                default: break
                }
            }
            return at > 0 && lastDot > at + 1 && lastDot < bytes.count - 1
        }
    }
}

import CryptlexModels

/// The end of a change row's mapping (update, renew, set-expiry, suspend, revoke, delete and their
/// undoing): its target and the fields its action allows.
extension RowMapper {
    /// A change row: its target, and what its action allows (``LicenseAction``). Fields the action
    /// does not use are errors, not silently dropped: a misplaced column must not go unnoticed —
    /// except in a row that names its license by both `licenseId` and `key`, as `licprov pull`
    /// writes every row: such a row carries the license's whole state, so the action takes what it
    /// uses and leaves the rest; an update takes every field it can change (sending, once the
    /// license is read, only what differs) and its metadata cells as the whole list.
    func finishChange(_ row: inout Assembly, action: LicenseAction, rowID: String, idIsFromColumn: Bool) -> OrderRow {
        let line = row.position.line
        func problem(_ field: String?, _ message: String) {
            row.diagnostics.append(Diagnostic(file: file, line: line, field: field, message: message))
        }
        // The target: licenseId, else key, else --target-metadata.
        var target: LicenseTarget?
        var keyIsTarget = false
        if let id = row.licenseID {
            target = .id(id)
        } else if let key = row.request.key {
            target = .key(key)
            keyIsTarget = true
        } else if let name = targetMetadata {
            let value =
                name == idColumn && idIsFromColumn ? rowID : row.request.metadata?.first { $0.key == name }?.value
            if let value, !value.isEmpty {
                target = .metadata(name: name, value: value)
            } else {
                problem(name, "is empty; --target-metadata \(name) finds the license to \(action.rawValue) by it")
            }
        } else {
            problem(
                nil,
                "names no license to \(action.rawValue): add a licenseId or key column, or pass --target-metadata NAME (the order id licprov keeps on each license it creates)"
            )
        }
        let pulled = row.licenseID != nil && row.request.key != nil
        var customer: Customer?
        if action == .update {
            // An update with an email links the license to that customer (found, or created as a
            // create row's would be): its PATCH sends the user's id.
            customer = Self.customer(of: row, problem)
        } else if !pulled, row.email != nil || row.firstName != nil || row.lastName != nil || row.company != nil {
            problem(
                row.email != nil ? "email" : "firstName",
                "is for create and update rows; \(action.rawValue) does not change the customer")
        }
        if !pulled,
            let field = row.directory.keys.filter({ !defaultDirectory.contains($0) }).min(by: {
                $0.rawValue < $1.rawValue
            })
        {
            problem(
                field.rawValue,
                "is for create rows; \(action.rawValue) does not move a license to another organization or reseller (update sets organizationId, resellerId)"
            )
        }
        if row.quantityGiven { problem("quantity", "is for create rows; a \(action.rawValue) row changes one license") }
        // Fields: the body of an update; set-expiry's expiresAt; nothing for the others.
        var expiry: ExpiryChange?
        var changed: [String] = []
        for index in 0..<LicenseFieldTable.all.count where row.isSet(index) {
            let name = LicenseFieldTable.all[index].name
            if keyIsTarget && name == "key" { continue }
            if name == "expiresAt" && (action == .setExpiry || row.perpetual) { continue }  // below
            if name == "metadata" { continue }  // below, by key
            if action == .update {
                if LicenseFieldTable.updatable.contains(name) {
                    changed.append(name)
                } else if !pulled {
                    problem(name, "cannot be changed by update: \(LicenseFieldTable.updateHint(for: name))")
                }
            } else if pulled {
                continue
            } else {
                problem(name, "is not used by \(action.rawValue); leave it empty (only update changes fields)")
            }
        }
        // Metadata from the row's own cells (the target's entry finds the license; it is no change).
        let ownKeys = (row.request.metadata ?? []).map(\.key).filter { !row.metadataFromDefaults.contains($0) }
        // An update may replace the whole list when it carries licprov's marker entry (as `plan`
        // writes it): then nothing of licprov's is dropped. Single entries cannot be changed alone.
        if action == .update, (pulled && !ownKeys.isEmpty) || markerKey.map(ownKeys.contains) == true {
            changed.append("metadata")
        } else if !pulled {
            for key in ownKeys where key != targetMetadata {
                problem(
                    "metadata.\(key)",
                    action == .update
                        ? "cannot be changed by update: Cryptlex replaces a license's whole metadata list, which would drop licprov's marker"
                        : "is not used by \(action.rawValue); leave it empty")
            }
        }
        switch action {
        case .setExpiry:
            if row.perpetual {
                expiry = .perpetual
            } else if let date = row.request.expiresAt {
                expiry = .date(date)
            } else {
                problem(
                    "expiresAt",
                    "is required for set-expiry: a date-time, or perpetual for a license that never expires")
            }
        case .update:
            if row.perpetual { problem("expiresAt", "cannot be changed by update: use the set-expiry action") }
            if changed.isEmpty && customer == nil && row.diagnostics.isEmpty {
                problem(nil, "is an update that changes nothing: add a column with the new value")
            }
            for found in LicenseValidator.problems(in: row.request) where changed.contains(found.field) {
                problem(found.field, found.message)
            }
        default:
            if row.perpetual { problem("expiresAt", "is not used by \(action.rawValue); leave it empty") }
        }
        var request = LicenseRequest(productId: "")
        swap(&request, &row.request)
        if keyIsTarget { request.key = nil }
        var diagnostics: [Diagnostic] = []
        swap(&diagnostics, &row.diagnostics)
        var built = OrderRow(
            position: row.position, rowID: rowID, request: request, customer: customer, quantity: 1,
            diagnostics: diagnostics)
        built.idIsFromColumn = idIsFromColumn
        built.action = action
        built.target = target
        built.expiry = expiry
        built.changedFields = changed
        return built
    }
}

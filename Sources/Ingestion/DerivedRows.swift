import CryptlexModels
import Foundation

/// Where a run's rows come from: a file (``OrderFileReader``) or rows another command derived
/// (``DerivedRows``). The engine reads either the same way.
package protocol RowSource {
    /// Hands each row over, in order; what the read found.
    func read(_ body: (OrderRow) throws -> Void) throws -> IngestSummary
}

extension OrderFileReader: RowSource {}

/// Rows another command derived — `apply`'s plan, `undo`'s reversal, `audit --fix-duplicates` —
/// handed to a run as they are: typed from the plan to the engine, never written out and read
/// back. Each is valid by construction (made from a file already checked, or from a journal);
/// the run journals them like a file's rows, so a derived run resumes exactly once like any run.
package struct DerivedRows: Sendable {
    package var rows: [OrderRow]

    package init(_ rows: [OrderRow]) {
        self.rows = rows
    }

    /// A reader of the rows for a run whose options are `options` (its `prepare` made for each
    /// row, as the file reader makes it).
    package func reader(_ options: IngestOptions) -> some RowSource {
        Reader(rows: rows, prepare: options.prepare)
    }

    struct Reader: RowSource {
        var rows: [OrderRow]
        var prepare: (@Sendable (OrderRow) -> [UInt8])?

        func read(_ body: (OrderRow) throws -> Void) throws -> IngestSummary {
            var summary = IngestSummary()
            for var row in rows {
                summary.rows += 1
                if row.isValid {
                    summary.validRows += 1
                    if row.action == .create { summary.licenses += row.quantity } else { summary.changes += 1 }
                    row.prepared = prepare?(row)
                } else {
                    summary.errors += row.diagnostics.filter { $0.severity == .error }.count
                }
                try body(row)
            }
            return summary
        }
    }
}

extension OrderRow {
    /// A create another command planned: one license with `request` as it is to be sent (the run
    /// adds its marker), its customer, organization and reseller found or created as a file's are.
    package static func derivedCreate(
        rowID: String, line: Int, request: LicenseRequest, customer: Customer? = nil,
        organization: OrganizationRequest? = nil, reseller: ResellerRequest? = nil
    ) -> OrderRow {
        var row = OrderRow(
            position: SourcePosition(line: line, ordinal: line), rowID: rowID, request: request, customer: customer,
            quantity: 1, diagnostics: [])
        row.idIsFromColumn = true
        row.organization = organization
        row.reseller = reseller
        return row
    }

    /// A row another command planned nothing for, and why (an order not paid yet): listed in the
    /// results as skipped, never journaled or sent.
    package static func derivedSkip(rowID: String, line: Int, reason: String) -> OrderRow {
        var row = OrderRow(
            position: SourcePosition(line: line, ordinal: line), rowID: rowID, request: LicenseRequest(productId: ""),
            customer: nil, quantity: 0, diagnostics: [])
        row.idIsFromColumn = true
        row.skipped = reason
        return row
    }

    /// A change another command planned to the license `licenseID`: an update's fields (by their
    /// API names: `LicenseUpdateRequestModel`'s, `userId` among them for undo), a set-expiry's
    /// expiry, nothing more for the others; an update with a `customer` links the license to it.
    /// A field the request cannot carry is an error diagnostic, never dropped.
    package static func derivedChange(
        rowID: String, line: Int, licenseID: String, action: LicenseAction, fields: [String: JSONAny] = [:],
        expiry: ExpiryChange? = nil, customer: Customer? = nil
    ) -> OrderRow {
        var row = OrderRow(
            position: SourcePosition(line: line, ordinal: line), rowID: rowID, request: LicenseRequest(productId: ""),
            customer: customer, quantity: 1, diagnostics: [])
        row.idIsFromColumn = true
        row.action = action
        row.target = .id(licenseID)
        row.expiry = action == .setExpiry ? (expiry ?? .perpetual) : nil
        guard action == .update, !fields.isEmpty else { return row }
        var object = fields
        object["productId"] = .string("")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        do {
            let request = try JSONDecoder().decode(LicenseRequest.self, from: encoder.encode(object))
            let carried = Set(LicenseFields.decode(request.canonicalJSON)?.keys.map { $0 } ?? [])
            for name in fields.keys.sorted() where !carried.contains(name) {
                row.diagnostics.append(
                    Diagnostic(
                        file: "derived rows", line: line, field: name, message: "is not a field an update can send"))
            }
            row.request = request
            row.changedFields = fields.keys.sorted()
        } catch {
            row.diagnostics.append(
                Diagnostic(
                    file: "derived rows", line: line, field: nil,
                    message: "the update's fields are not a license's: \(error)"))
        }
        return row
    }
}

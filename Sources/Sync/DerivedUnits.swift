import Audit
import CryptlexModels
import Foundation
import Journal
import Provisioning

/// What an apply's journal says about one order or one license, read when a plan needs it (a
/// plan of 100,000 unchanged licenses reads nothing of it):
///
/// - the create units it holds for an order (`create:ORDER:UNIT` rows): a create planned again
///   after a kill reuses the unit the journal may have sent (so the journal looks it up instead of
///   sending twice); a unit the journal created whose license is gone is not reused (the journal
///   would call it done), a fresh number is;
/// - what licprov last applied to a license (its create body with every applied change laid over
///   it, as `audit` computes it, and the email of the customer it last linked it to): a
///   difference where the file still says what was applied is
///   **drift** (the account changed), any other a change of the file.
struct DerivedUnits {
    private let journal: SQLiteJournal?

    init(journalPath: String) throws {
        journal = FileManager.default.fileExists(atPath: journalPath) ? try SQLiteJournal(path: journalPath) : nil
    }

    private struct Unit {
        var number: Int
        var marker: String
        var settled: Bool
        var licenseID: String?
    }

    private func units(order: String) throws -> [Unit] {
        guard let journal else { return [] }
        let prefix = "create:\(order):"
        return try journal.entries(rowIDPrefix: prefix).compactMap { entry in
            guard entry.action == .create, let number = Int(entry.rowID.dropFirst(prefix.count)) else { return nil }
            return Unit(
                number: number, marker: entry.marker, settled: entry.state.isSettled, licenseID: entry.licenseID)
        }
    }

    /// The fields licprov last applied to license `id` (nil: it never applied anything to it).
    func applied(licenseID id: String) throws -> [String: JSONAny]? {
        guard let journal else { return nil }
        let entries = try journal.entries(licenseID: id).filter(\.state.isSettled)
        guard !entries.isEmpty else { return nil }
        let created = entries.first { $0.action == .create }
        var fields = JournalAudit.expected(
            created: created?.operation, changes: entries.filter { $0.action != .create })
        // The customer licprov last linked it to (by its create or an update), by email.
        if let ref = entries.sorted(by: { $0.id < $1.id }).last(where: { $0.customerRef != nil })?.customerRef,
            let customer = try journal.customer(id: ref)
        {
            fields["email"] = .string(customer.email)
        }
        return fields
    }

    /// The licenses the journal created for `order`.
    func createdLicenses(order: String) throws -> [String] {
        try units(order: order).filter(\.settled).compactMap(\.licenseID)
    }

    /// `count` unit numbers to create for `order`, given the markers of its licenses the account holds.
    func free(order: String, count: Int, presentMarkers: Set<String>) throws -> [Int] {
        let units = try units(order: order)
        var taken = Set(units.filter { presentMarkers.contains($0.marker) || $0.settled }.map(\.number))
        // First the units the journal sent or left unsent whose license is not there: its lookup settles them.
        var chosen = Array(units.filter { !taken.contains($0.number) }.map(\.number).sorted().prefix(count))
        taken.formUnion(chosen)
        var next = 1
        while chosen.count < count {
            if !taken.contains(next) && !units.contains(where: { $0.number == next }) { chosen.append(next) }
            next += 1
        }
        return chosen.sorted()
    }
}

import CryptlexModels
import Foundation
import Journal

/// The create units an apply's journal holds for each order (`create:ORDER:UNIT` rows): a create
/// planned again after a kill reuses the unit the journal may have sent (so the journal looks it
/// up instead of sending twice); a unit the journal created whose license is gone is not reused
/// (the journal would call it done), a fresh number is.
///
/// It also knows what licprov last applied to each license (its create body with every applied
/// change laid over it, as `audit` computes it): a difference where the file still says what was
/// applied is **drift** (the account changed), any other a change of the file.
struct DerivedUnits {
    private struct Unit {
        var number: Int
        var marker: String
        var settled: Bool
        var licenseID: String?
    }

    private var byOrder: [String: [Unit]] = [:]
    /// License id → the fields licprov last applied.
    private(set) var applied: [String: [String: JSONAny]] = [:]

    init(journalPath: String) throws {
        guard FileManager.default.fileExists(atPath: journalPath) else { return }
        let journal = try SQLiteJournal(path: journalPath)
        var creates: [String: [UInt8]] = [:]
        var changes: [String: [JournalEntry]] = [:]
        try journal.forEachEntry { entry in
            if entry.action != .create {
                if entry.state.isSettled, let id = entry.licenseID { changes[id, default: []].append(entry) }
                return
            }
            if entry.state.isSettled, let id = entry.licenseID { creates[id] = entry.body }
            guard entry.rowID.hasPrefix("create:"),
                  let colon = entry.rowID.lastIndex(of: ":"), let number = Int(entry.rowID[entry.rowID.index(after: colon)...]) else { return }
            let order = String(entry.rowID[entry.rowID.index(entry.rowID.startIndex, offsetBy: 7)..<colon])
            byOrder[order, default: []].append(Unit(number: number, marker: entry.marker, settled: entry.state.isSettled, licenseID: entry.licenseID))
        }
        for id in Set(creates.keys).union(changes.keys) {
            applied[id] = JournalAudit.expected(created: creates[id], changes: changes[id] ?? [])
        }
    }

    /// The licenses the journal created for `order`.
    func createdLicenses(order: String) -> [String] {
        (byOrder[order] ?? []).filter(\.settled).compactMap(\.licenseID)
    }

    /// `count` unit numbers to create for `order`, given the markers of its licenses the account holds.
    func free(order: String, count: Int, presentMarkers: Set<String>) -> [Int] {
        let units = byOrder[order] ?? []
        var taken = Set(units.filter { presentMarkers.contains($0.marker) || $0.settled }.map(\.number))
        // First the units the journal sent or left unsent whose license is not there: its lookup settles them.
        var chosen = units.filter { !taken.contains($0.number) }.map(\.number).sorted()
        chosen = Array(chosen.prefix(count))
        taken.formUnion(chosen)
        var next = 1
        while chosen.count < count {
            if !taken.contains(next) && !units.contains(where: { $0.number == next }) { chosen.append(next) }
            next += 1
        }
        return chosen.sorted()
    }
}

import CryptlexEmulator
import Foundation
import Provisioning

extension Simulator {
    /// What must hold when a schedule ends, whatever was lost, refused or killed on the way.
    static func check(_ schedule: Schedule, emulator: CryptlexEmulator, clean: Ending?, rerun: Ending?) async
        -> [String]
    {
        var violations: [String] = []
        // The run with the faults off settles every row.
        if let report = clean?.report {
            let counts = report.counts
            if report.ending != .finished || counts.failed + counts.rejected + counts.conflicts + counts.unresolved > 0
            {
                violations.append(
                    "the run with the faults off ended \(report.ending) with failed \(counts.failed), rejected "
                        + "\(counts.rejected), conflicts \(counts.conflicts), unresolved \(counts.unresolved)")
            }
        } else {
            violations.append("the run with the faults off did not end with a report")
        }
        // A rerun of a settled file sends no write.
        if let rerun, rerun.writes > 0 { violations.append("a rerun of the settled file sent \(rerun.writes) writes") }
        if rerun == nil { violations.append("no rerun ended") }

        // Every row's licenses exist exactly once: by order id, and by marker.
        struct Held {
            var id: String
            var key: String
            var order: String?
            var marker: String?
            var userEmail: String?
        }
        let held: [Held] = await emulator.store.allLicenses().compactMap { value in
            guard let fields = value.objectValue, let id = fields["id"]?.stringValue,
                let key = fields["key"]?.stringValue
            else { return nil }
            var order: String?
            var marker: String?
            if case .array(let entries)? = fields["metadata"] {
                for entry in entries {
                    guard let entry = entry.objectValue, let name = entry["key"]?.stringValue else { continue }
                    if name == "order_id" { order = entry["value"]?.stringValue }
                    if name == RunConfiguration.defaultMarkerKey { marker = entry["value"]?.stringValue }
                }
            }
            return Held(
                id: id, key: key, order: order, marker: marker,
                userEmail: fields["user"]?.objectValue?["email"]?.stringValue?.lowercased())
        }
        let byOrder = Dictionary(grouping: held, by: { $0.order ?? "" })
        for row in schedule.rows where byOrder[row.order]?.count ?? 0 != row.quantity {
            violations.append("\(row.order): \(byOrder[row.order]?.count ?? 0) licenses, \(row.quantity) wanted")
        }
        let wanted = schedule.rows.reduce(0) { $0 + $1.quantity }
        if held.count != wanted { violations.append("\(held.count) licenses in the account, \(wanted) wanted") }
        let markers = Dictionary(grouping: held.compactMap(\.marker), by: { $0 })
        for (marker, copies) in markers where copies.count > 1 {
            violations.append("marker \(marker) on \(copies.count) licenses")
        }
        // Each customer once, and each license with its row's customer.
        let users = await emulator.store.allUsers().compactMap { $0.objectValue?["email"]?.stringValue?.lowercased() }
        for (email, copies) in Dictionary(grouping: users, by: { $0 }) where copies.count > 1 {
            violations.append("user \(email) created \(copies.count) times")
        }
        for row in schedule.rows {
            for license in byOrder[row.order] ?? [] where license.userEmail != row.email?.lowercased() {
                violations.append(
                    "\(row.order): license \(license.id) has user \(license.userEmail ?? "none"), the row says \(row.email ?? "none")"
                )
            }
        }
        // The results file lists every row with the key the account holds for it.
        if let results = rerun?.results ?? clean?.results {
            let rows = Self.resultRows(results)
            let keysByOrder = Dictionary(grouping: held, by: { $0.order ?? "" }).mapValues { Set($0.map(\.key)) }
            for row in schedule.rows {
                let lines = rows.filter { $0["row_id"] == row.order }
                let keys = Set(lines.compactMap { $0["license_key"] }.filter { !$0.isEmpty })
                if lines.count != row.quantity || keys != keysByOrder[row.order] ?? [] {
                    violations.append(
                        "\(row.order): the results list \(lines.count) lines with keys \(keys.sorted()), the account "
                            + "holds \((keysByOrder[row.order] ?? []).sorted())")
                }
            }
        }
        return violations
    }

    /// A results file's rows by column name (the simulation's values hold no comma or quote).
    static func resultRows(_ path: String) -> [[String: String]] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        let lines = text.split(separator: "\r\n").map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        guard let header = lines.first?.map(String.init) else { return [] }
        return lines.dropFirst().map {
            Dictionary(zip(header, $0.map(String.init)), uniquingKeysWith: { first, _ in first })
        }
    }
}

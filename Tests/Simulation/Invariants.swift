import CryptlexEmulator
import Foundation
import Provisioning

extension Simulator {
    /// The run of `input` with the faults off settled every row, and its rerun sent no write.
    /// `conflicts`: the rows edited in the file after their license was made, which the run must report.
    static func settled(_ input: String, clean: Ending?, rerun: Ending?, conflicts: Int = 0) -> [String] {
        var violations: [String] = []
        if let report = clean?.report {
            let counts = report.counts
            if report.ending != .finished || counts.failed + counts.rejected + counts.unresolved > 0
                || counts.conflicts != conflicts
            {
                violations.append(
                    "the run of \(input) with the faults off ended \(report.ending) with failed \(counts.failed), "
                        + "rejected \(counts.rejected), conflicts \(counts.conflicts) (\(conflicts) edited after "
                        + "their license was made), unresolved \(counts.unresolved)")
            }
        } else {
            violations.append("the run of \(input) with the faults off did not end with a report")
        }
        if let rerun, rerun.writes > 0 {
            violations.append("a rerun of the settled \(input) sent \(rerun.writes) writes")
        }
        if rerun == nil { violations.append("no rerun of \(input) ended") }
        return violations
    }

    /// What must hold when a schedule ends, whatever was lost, refused or killed on the way.
    static func check(_ schedule: Schedule, emulator: CryptlexEmulator, clean: Ending?, rerun: Ending?) async
        -> [String]
    {
        // Every row's licenses exist exactly once: by order id, and by marker.
        struct Held {
            var id: String
            var key: String
            var interval: String?
            var order: String?
            var marker: String?
            var userEmail: String?
            var organizationID: String?
            var resellerID: String?
        }
        let held: [Held] = await emulator.store.allLicenses().compactMap { value in
            guard let fields = value.objectValue, let id = fields["id"]?.stringValue,
                let key = fields["key"]?.stringValue
            else { return nil }
            return Held(
                id: id, key: key, interval: fields["subscriptionInterval"]?.stringValue,
                order: metadata("order_id", of: fields),
                marker: metadata(RunConfiguration.defaultMarkerKey, of: fields),
                userEmail: fields["user"]?.objectValue?["email"]?.stringValue?.lowercased(),
                organizationID: fields["organizationId"]?.stringValue, resellerID: fields["resellerId"]?.stringValue)
        }
        let byOrder = Dictionary(grouping: held, by: { $0.order ?? "" })
        var violations = settled(
            "orders", clean: clean, rerun: rerun, conflicts: await madeBeforeTheEdit(schedule, emulator: emulator))
        for row in schedule.rows {
            let count = byOrder[row.order]?.count ?? 0
            // A row removed from the file: made before it went, or never; never twice.
            if schedule.removed.contains(row.order) ? count > row.quantity : count != row.quantity {
                violations.append(
                    "\(row.order): \(count) licenses, \(row.quantity) wanted"
                        + (schedule.removed.contains(row.order) ? " at most (removed from the file)" : ""))
            }
        }
        let wanted = schedule.finalRows.reduce(0) { $0 + $1.quantity }
        let removed = schedule.rows.filter { schedule.removed.contains($0.order) }.reduce(0) { $0 + $1.quantity }
        if held.count < wanted || held.count > wanted + removed {
            violations.append("\(held.count) licenses in the account, \(wanted) wanted (+ up to \(removed) removed)")
        }
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
        // Each organization and reseller a row names created once, none other, and on its rows' licenses.
        for (kind, records, named) in [
            ("organization", await emulator.store.allOrganizations(), { (row: Schedule.Row) in row.organization }),
            ("reseller", await emulator.store.allResellers(), { (row: Schedule.Row) in row.reseller }),
        ] {
            let ids = Dictionary(
                grouping: records.compactMap { record -> (String, String)? in
                    guard let name = record.objectValue?["name"]?.stringValue,
                        let id = record.objectValue?["id"]?.stringValue
                    else { return nil }
                    return (name, id)
                }, by: \.0
            ).mapValues { $0.map(\.1) }
            for (name, copies) in ids where copies.count > 1 {
                violations.append("\(kind) \(name) created \(copies.count) times")
            }
            // (A name only removed rows gave may have been created before they went.)
            let wanted = Set(schedule.finalRows.compactMap(named))
            let namedEver = Set(schedule.rows.compactMap(named))
            if !wanted.isSubset(of: ids.keys) || !Set(ids.keys).isSubset(of: namedEver) {
                violations.append("\(kind)s \(ids.keys.sorted()) in the account, \(wanted.sorted()) named by the rows")
            }
            for row in schedule.rows {
                for license in byOrder[row.order] ?? [] {
                    let linked = kind == "organization" ? license.organizationID : license.resellerID
                    let expected = named(row).flatMap { ids[$0]?.first }
                    if linked != expected {
                        violations.append(
                            "\(row.order): license \(license.id) has \(kind) \(linked ?? "none"), the row names "
                                + "\(named(row) ?? "none")")
                    }
                }
            }
        }
        // The results file lists every row with the key the account holds for it.
        if let results = rerun?.results ?? clean?.results {
            let rows = Self.resultRows(results)
            if rows.isEmpty {
                let text = (try? String(contentsOfFile: results, encoding: .utf8)) ?? "(unreadable)"
                violations.append("the results file \(results) holds no row: \(text.prefix(300).debugDescription)")
            }
            let keysByOrder = Dictionary(grouping: held, by: { $0.order ?? "" }).mapValues { Set($0.map(\.key)) }
            let intervals = Dictionary(held.map { ($0.key, $0.interval) }, uniquingKeysWith: { first, _ in first })
            for row in schedule.finalRows {
                let lines = rows.filter { $0["row_id"] == row.order }
                let keys = Set(lines.compactMap { $0["license_key"] }.filter { !$0.isEmpty })
                if lines.count != row.quantity || keys != keysByOrder[row.order] ?? [] {
                    violations.append(
                        "\(row.order): the results list \(lines.count) lines with keys \(keys.sorted()), the account "
                            + "holds \((keysByOrder[row.order] ?? []).sorted())")
                }
                // An edited row: its license as the edit has it, or a conflict saying it was made before.
                for line in lines where schedule.edited.contains(row.order) {
                    let interval = intervals[line["license_key"] ?? ""] ?? nil
                    let status = line["status"] ?? ""
                    if (interval == "P1Y") == (status == "conflict") {
                        violations.append(
                            "\(row.order) (edited in the file): the results say \(status) for a license with "
                                + "interval \(interval ?? "none")")
                    }
                }
            }
            for line in rows where schedule.removed.contains(line["row_id"] ?? "") {
                violations.append("\(line["row_id"] ?? ""), removed from the file, is in the results")
            }
        }
        return violations
    }

    /// The licenses of rows edited in the file after the license was made (with the interval the
    /// rows had before): kept as made, each reported as a conflict by every later run.
    static func madeBeforeTheEdit(_ schedule: Schedule, emulator: CryptlexEmulator) async -> Int {
        guard !schedule.edited.isEmpty else { return 0 }
        return await emulator.store.allLicenses().count { license in
            guard let fields = license.objectValue, let order = metadata("order_id", of: fields) else { return false }
            return schedule.edited.contains(order) && fields["subscriptionInterval"]?.stringValue != "P1Y"
        }
    }

    /// The value of a license's metadata entry `key` (its order id, its marker), as the emulator holds it.
    static func metadata(_ key: String, of license: [String: JSONValue]) -> String? {
        (license["metadata"]?.arrayValue ?? []).first { $0.objectValue?["key"]?.stringValue == key }?
            .objectValue?["value"]?.stringValue
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

extension Simulator {
    /// What must hold once a change file is settled: each change applied exactly once (a renewal
    /// never twice, nothing else touched), the licenses as the rows say, the results listing each.
    static func checkChanges(
        _ schedule: Schedule, emulator: CryptlexEmulator, before: [String: [String: Int]], clean: Ending?,
        rerun: Ending?
    ) async -> [String] {
        var violations = settled("changes", clean: clean, rerun: rerun)

        var byOrder: [String: [String: JSONValue]] = [:]
        for license in await emulator.store.allLicenses() {
            guard let fields = license.objectValue, let order = metadata("order_id", of: fields) else { continue }
            byOrder[order] = fields
        }
        let after = await emulator.store.changesByLicense()
        var changed = Set<String>()
        for change in schedule.changes {
            guard let license = byOrder[change.order], let id = license["id"]?.stringValue else {
                violations.append("\(change.event): no license of \(change.order)")
                continue
            }
            changed.insert(id)
            func applied(_ kind: String) -> Int { (after[id]?[kind] ?? 0) - (before[id]?[kind] ?? 0) }
            let name = "\(change.event) (\(change.action.rawValue) \(change.order))"
            let wanted =
                switch change.action {
                case .renew: "renew"
                case .setExpiry: "expires-at"
                case .suspend, .update, .revoke: "update"
                }
            // What another client did first may leave nothing to send: the seats the row sets are
            // sent only when they differ; suspending a suspended license may be sent or not.
            let edit = schedule.handEdits[change.event]
            let times: ClosedRange<Int> =
                switch (change.action, edit) {
                case (.update, .seats(let seats)?) where seats == change.activations: 0...0
                case (.suspend, .suspend?): 0...1
                default: 1...1
                }
            for kind in ["update", "renew", "expires-at", "delete"]
            where !(kind == wanted ? times : 0...0).contains(applied(kind)) {
                violations.append(
                    "\(name)\(edit.map { " (another client: \($0))" } ?? ""): \(kind) applied \(applied(kind)) times")
            }
            switch change.action {
            case .renew: break
            case .suspend:
                if license["suspended"] != .bool(true) { violations.append("\(name): the license is not suspended") }
            case .update:
                if license["allowedActivations"] != .int(Int64(change.activations)) {
                    violations.append(
                        "\(name): allowedActivations \(String(describing: license["allowedActivations"]))")
                }
            case .revoke:
                if license["revoked"] != .bool(true) { violations.append("\(name): the license is not revoked") }
            case .setExpiry:
                if license["expiresAt"]?.stringValue?.hasPrefix(Schedule.newExpiry) != true {
                    violations.append("\(name): expiresAt \(String(describing: license["expiresAt"]))")
                }
            }
        }
        for (id, kinds) in after where !changed.contains(id) {
            for (kind, count) in kinds where count != before[id]?[kind] ?? 0 {
                violations.append("license \(id), changed by no row: \(kind) applied")
            }
        }
        if let results = rerun?.results ?? clean?.results {
            let rows = Dictionary(resultRows(results).map { ($0["row_id"] ?? "", $0) }, uniquingKeysWith: { a, _ in a })
            for change in schedule.changes {
                let status = rows[change.event]?["status"] ?? "missing"
                let expected: Set<String> =
                    switch change.action {
                    case .renew: ["renewed"]
                    case .suspend: ["suspended"]
                    case .update: ["updated"]
                    case .revoke: ["revoked"]
                    case .setExpiry: ["expiry set"]
                    }
                if !expected.contains(status) {
                    violations.append("\(change.event): the results say \(status), not \(expected.sorted()[0])")
                }
            }
        }
        return violations
    }
}

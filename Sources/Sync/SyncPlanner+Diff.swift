import CryptlexModels
import Foundation
import Ingestion
import Journal
import Provisioning

/// The comparison of one row with one of its licenses: the steps that make the license what the
/// row says, field by field (see ``SyncPlanner``'s step 3).
extension SyncPlanner {
    /// The steps that make `license` what `row` says.
    static func diff(
        _ row: Wanted, fields wanted: [String: JSONAny], _ license: Managed, columns: [String], markerKey: String?,
        notes: inout [String]
    ) -> [SyncPlan.Step] {
        var steps: [SyncPlan.Step] = []
        var updates: [SyncPlan.FieldChange] = []
        func step(_ kind: SyncPlan.Step.Kind, _ fields: [SyncPlan.FieldChange]) -> SyncPlan.Step {
            SyncPlan.Step(
                kind: kind, order: row.order, sourceLine: row.line, licenseID: license.id, fields: fields,
                licenseUpdatedAt: license.updatedAt)
        }
        for (name, want) in wanted.sorted(by: { $0.key < $1.key }) where !notCompared.contains(name) {
            let have = columns.firstIndex(of: name).map { license.values[$0] } ?? .null
            if LicenseFields.same(have, want) { continue }
            if want == .null, have == .null { continue }
            let change = SyncPlan.FieldChange(name: name, old: have, new: want)
            switch name {
            case "revoked": steps.append(step(want == .bool(true) ? .revoke : .unrevoke, [change]))
            case "suspended": steps.append(step(want == .bool(true) ? .suspend : .unsuspend, [change]))
            case "expiresAt": steps.append(step(.setExpiry, [change]))
            default:
                if LicenseFieldTable.updatable.contains(name) {
                    updates.append(change)
                } else {
                    notes.append(
                        "\(row.order) (line \(row.line)): \(name) differs (the account has \(SyncPlan.show(have)), the file \(SyncPlan.show(want))) "
                            + "but the API cannot change it on an existing license")
                }
            }
        }
        if let index = columns.firstIndex(of: "metadata") {
            var wantedEntries: [[String]] = []
            if case .array(let entries)? = wanted["metadata"] {
                wantedEntries = LicenseFields.metadataPairs(entries) ?? []
            }
            if !wantedEntries.isEmpty, case .array(let entries) = license.values[index],
                let have = LicenseFields.metadataPairs(entries)
            {
                // Per key: the file's keys take the file's values; every other entry (licprov's
                // marker, the order id, anyone's) stays, in its place. The PATCH sends the whole list.
                var merged = have
                for pair in wantedEntries {
                    if let at = merged.firstIndex(where: { $0[0] == pair[0] }) {
                        merged[at][1] = pair[1]
                    } else {
                        merged.append(pair)
                    }
                }
                if merged != have {
                    let asJSON: ([[String]]) -> JSONAny = {
                        .array($0.map { .object(["key": .string($0[0]), "value": .string($0[1])]) })
                    }
                    if let markerKey, have.contains(where: { $0[0] == markerKey }) {
                        updates.append(SyncPlan.FieldChange(name: "metadata", old: asJSON(have), new: asJSON(merged)))
                    } else {
                        notes.append(
                            "\(row.order) (line \(row.line)): its metadata differs, but the license has no licprov marker entry; "
                                + "the whole list a change must send is not planned for it (change it in Cryptlex)")
                    }
                }
            }
        }
        if let email = row.email, !sameValue("email", license.userEmail.map(JSONAny.string) ?? .null, .string(email)) {
            // Another customer: the update links the license to the file's (its columns ride along
            // for a user that must be created).
            updates.append(
                SyncPlan.FieldChange(
                    name: "email", old: license.userEmail.map(JSONAny.string) ?? .null, new: .string(email)))
        }
        if !updates.isEmpty {
            var update = step(.update, updates)
            if updates.contains(where: { $0.name == "email" }) { update.customer = row.owners?.customer }
            steps.insert(update, at: 0)
        }
        return steps
    }

    /// The email of a license's user (`user.email`), nil when it has none.
    static func userEmail(_ snapshot: LicenseSnapshot) -> String? {
        guard case .object(let user)? = snapshot.fields["user"], case .string(let email)? = user["email"] else {
            return nil
        }
        return email
    }

    /// Whether the account's value of field `name` is the file's: emails case-insensitively.
    static func sameValue(_ name: String, _ have: JSONAny, _ want: JSONAny) -> Bool {
        if name == "email", case .string(let a) = have, case .string(let b) = want {
            return CustomerRecord.key(a) == CustomerRecord.key(b)
        }
        return LicenseFields.same(have, want)
    }

    /// A JSON string's text (nil for anything else).
    static func text(_ value: JSONAny) -> String? {
        if case .string(let text) = value { return text }
        return nil
    }
}

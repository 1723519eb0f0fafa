import CryptlexModels

/// The constraints of `LicenseRequestModel`, checked on a typed request before anything is sent.
///
/// One validator serves `licprov validate` and `licprov run` (which checks each request again
/// before sending it). Lengths are counted in UTF-16 code units, as Cryptlex's .NET server counts
/// them.
package enum LicenseValidator {
    /// A broken constraint: the body field and what to do about it.
    package struct Problem: Sendable, Equatable {
        package var field: String
        package var message: String
    }

    package static func problems(in request: LicenseRequest) -> [Problem] {
        var problems: [Problem] = []
        func check(_ field: String, _ ok: Bool, _ message: @autoclosure () -> String) {
            if !ok { problems.append(Problem(field: field, message: message())) }
        }
        func length(_ field: String, _ value: String?, min: Int = 0, max: Int) {
            guard let value else { return }
            let count = value.utf16.count
            if count < min {
                check(
                    field, false,
                    min == 1 ? "must not be empty" : "must be at least \(min) characters long, not \(count)")
            }
            check(field, count <= max, "must be at most \(max) characters long, not \(count)")
        }
        func atLeast(_ field: String, _ value: Int32?, _ minimum: Int32, _ hint: String = "") {
            guard let value else { return }
            check(field, value >= minimum, "must be at least \(minimum)\(hint), not \(value)")
        }
        func items<T>(_ field: String, _ value: [T]?, max: Int) {
            guard let value else { return }
            check(field, value.count <= max, "may have at most \(max) items, not \(value.count)")
        }

        if request.productId.isEmpty {
            problems.append(
                Problem(field: "productId", message: "is required: add a productId column or pass --product-id"))
        }
        length("productId", request.productId.isEmpty ? nil : request.productId, min: 1, max: 256)
        length("key", request.key, min: 16, max: 256)
        atLeast("allowedActivations", request.allowedActivations, -1, " (-1 means unlimited)")
        atLeast("allowedDeactivations", request.allowedDeactivations, -1, " (-1 means unlimited)")
        atLeast("leaseDuration", request.leaseDuration, -1)
        atLeast("serverSyncGracePeriod", request.serverSyncGracePeriod, -1)
        atLeast("allowedClockOffset", request.allowedClockOffset, -1)
        atLeast("allowedFloatingClients", request.allowedFloatingClients, 0)
        atLeast("expiringSoonEventOffset", request.expiringSoonEventOffset, 0)
        atLeast("serverSyncInterval", request.serverSyncInterval, 180, " seconds")
        atLeast("validity", request.validity, 0)
        length("notes", request.notes, max: 4096)
        length("userId", request.userId, max: 256)
        length("resellerId", request.resellerId, max: 256)
        length("organizationId", request.organizationId, max: 256)
        length("productVersionId", request.productVersionId, max: 256)
        length("entitlementSetId", request.entitlementSetId, max: 256)
        length("maintenancePolicyId", request.maintenancePolicyId, max: 256)
        length("subscriptionInterval", request.subscriptionInterval, max: 256)
        items("allowedIpRanges", request.allowedIpRanges, max: 40)
        items("allowedCountries", request.allowedCountries, max: 256)
        items("disallowedCountries", request.disallowedCountries, max: 256)
        items("allowedIpAddresses", request.allowedIpAddresses, max: 256)
        items("disallowedIpAddresses", request.disallowedIpAddresses, max: 256)
        items("additionalUserIds", request.additionalUserIds, max: 256)
        items("tags", request.tags, max: 5)
        if let metadata = request.metadata {
            items("metadata", metadata, max: 50)
            for (index, entry) in metadata.enumerated() {
                let field = "metadata.\(entry.key)"
                length(field, entry.key, min: 1, max: 256)
                check(
                    field, entry.value.utf16.count <= 4096,
                    "value must be at most 4096 characters long, not \(entry.value.utf16.count)")
                items(field + ".viewPermissions", entry.viewPermissions, max: 10)
                check(field, !metadata[..<index].contains { $0.key == entry.key }, "is given twice; keep one")
            }
        }
        for meter in request.meterAttributes ?? [] {
            length("meterAttributes.name", meter.name, min: 1, max: 256)
            check(
                "meterAttributes.\(meter.name).allowedUses", meter.allowedUses >= -1,
                "must be at least -1 (unlimited), not \(meter.allowedUses)")
        }
        return problems
    }
}

import FileFormats
import Foundation

/// The column mapping (`--map SOURCE=TARGET`, `[columns]`): what each source column means to licprov.
enum ColumnMapping {
    /// Every target must be something a header may say (a license field, a customer field,
    /// `metadata.<key>`, `action`, `quantity`, `licenseId`, or the id column), and no two sources
    /// may mean the same target.
    static func check(_ map: [String: String], idColumn: String?) throws(IngestionError) {
        var sourceByTarget: [String: String] = [:]
        for (source, target) in map.sorted(by: { $0.key < $1.key }) {
            if source.contains("*") {
                // A pattern: one `*` in the source, one in the target, which must be metadata.
                guard source.filter({ $0 == "*" }).count == 1, target.filter({ $0 == "*" }).count == 1,
                    case .metadataKey = ColumnTarget.resolve(
                        target.replacingOccurrences(of: "*", with: "x"), policy: .error)
                else {
                    throw .badOption(
                        "--map \(source)=\(target): a mapping with * has one * in its source and one in its target, which names metadata (\"* (metadata)\" = \"metadata.*\")"
                    )
                }
                continue
            }
            let resolved = ColumnTarget.resolve(target, policy: .error)
            if case .unknown = resolved, target != idColumn {
                let hint = ColumnTarget.suggestion(for: target).map { " (did you mean \($0)?)" } ?? ""
                throw .badOption(
                    "--map \(source)=\(target): \(target) is not a license field, a customer field, metadata.<key>, action, quantity, licenseId or the --id-column\(hint)"
                )
            }
            let identity = resolved.identity ?? target
            if let other = sourceByTarget[identity] {
                throw .badOption("--map: \"\(other)\" and \"\(source)\" both map to \(identity); map one of them")
            }
            sourceByTarget[identity] = source
        }
    }
}

extension ColumnMapping {
    /// A mapping with one `*` in its source and in its target (`"* (metadata)" = "metadata.*"`):
    /// every column the source matches maps to the target with the `*` part in its place.
    struct Pattern: Sendable {
        let prefix: String
        let suffix: String
        let targetPrefix: String
        let targetSuffix: String

        func target(for name: String) -> String? {
            guard name.count > prefix.count + suffix.count, name.hasPrefix(prefix), name.hasSuffix(suffix) else {
                return nil
            }
            return targetPrefix + name.dropFirst(prefix.count).dropLast(suffix.count) + targetSuffix
        }
    }

    /// The mapping's patterns.
    static func patterns(_ map: [String: String]) -> [Pattern] {
        map.compactMap { source, target in
            guard let star = source.firstIndex(of: "*"), let targetStar = target.firstIndex(of: "*") else { return nil }
            return Pattern(
                prefix: String(source[..<star]), suffix: String(source[source.index(after: star)...]),
                targetPrefix: String(target[..<targetStar]),
                targetSuffix: String(target[target.index(after: targetStar)...]))
        }.sorted { $0.prefix.count + $0.suffix.count > $1.prefix.count + $1.suffix.count }
    }

    /// What a column means by the mapping: its own entry, else the first pattern it matches; nil: neither.
    static func meaning(of name: String, map: [String: String], patterns: [Pattern]) -> String? {
        if let exact = map[name] { return exact }
        for pattern in patterns { if let target = pattern.target(for: name) { return target } }
        return nil
    }
}

/// Turns another system's export (`--from`) into rows: one JSON object per license, written as an
/// NDJSON line for the reader's JSON path, where the column mapping and the value tables apply.
///
/// - `keygen`: a Keygen license list, `{"data": [...], "included": [...]}` — one document, or one
///   per line for several pages. `key`, `expiry` → expiresAt, `maxMachines` → allowedActivations,
///   `suspended`, `metadata` entries → `metadata.<key>`, `created` → createdAt; the license's user
///   (`relationships.owner`, or `user`, found in `included`) → email, firstName, lastName;
///   `relationships.policy` → a `policy` column and `relationships.product` → a `product` column,
///   for value tables to turn into licenseTemplateId and productId (ignored otherwise); the Keygen id
///   as `keygen_id`, the default id column, which run keeps on each license as `metadata.keygen_id`.
/// - `cryptlex`: a `GET /v3/licenses` array: every field `LicenseRequestModel` accepts, but the
///   ids of the source account's own objects (users, organizations, resellers, versions, policies);
///   `user.email`, `user.firstName`, `user.lastName` → the customer; metadata entries but licprov's
///   marker (it belongs to the source account's journal); `licenseTemplateId` as a
///   `licenseTemplate` column for a value table; the source id as `cryptlex_id`, the default id
///   column, kept on each license as `metadata.cryptlex_id`. `productId` stays: map it with
///   `[values.productId]`.
enum ExportRows {
    /// Columns a converter adds for value tables: ignored unless a table or the mapping uses them.
    static func auxiliaryColumns(_ source: ExportSource) -> Set<String> {
        switch source {
        case .keygen: ["policy", "product"]
        case .cryptlex: ["licenseTemplate"]
        case .shopify, .stripe: []
        }
    }

    /// The id column a converter writes (the default `--id-column` with `--from`).
    static func idColumn(_ source: ExportSource) -> String {
        switch source {
        case .keygen: "keygen_id"
        case .cryptlex: "cryptlex_id"
        case .shopify: ExportSource.shopifyPreset.idColumn
        case .stripe: ExportSource.stripePreset.idColumn
        }
    }

    /// Reads `path` as `source`'s export, calling `row` with each license as a JSON object (for
    /// cryptlex the line the license starts on; for keygen, whose documents hold a page of licenses
    /// each, the license's place in the export), and the object's bytes.
    static func forEachRow(
        path: String, file: String, source: ExportSource, markerKey: String = "licprov_request",
        _ row: (_ line: Int, _ object: [UInt8]) throws -> Void
    ) throws {
        switch source {
        case .cryptlex:
            let reader = try ByteChunkReader(path: path)
            var array = JSONArrayReader(file: file)
            try reader.forEachChunk { chunk in
                try array.consume(chunk) { element in
                    guard let object = (try? JSONSerialization.jsonObject(with: Data(element.bytes))) as? [String: Any]
                    else {
                        throw IngestionError.malformedJSON(
                            file: file, line: element.line, column: element.column,
                            reason:
                                "element \(element.index) is not a license object (--from cryptlex reads GET /v3/licenses arrays)"
                        )
                    }
                    try row(element.line, try encode(cryptlex(object, markerKey: markerKey)))
                }
            }
            try array.finish()
        case .shopify:
            throw IngestionError.badOption("--from shopify reads Shopify's orders export as a CSV file or a workbook")
        case .stripe:
            let data = try readAll(path, file: file)
            var ordinal = 0
            for (line, document) in try documents(data, file: file, what: "a Stripe list of subscriptions") {
                let subscriptions: [[String: Any]]
                if let list = document as? [[String: Any]] {
                    subscriptions = list
                } else if let object = document as? [String: Any] {
                    subscriptions =
                        object["data"] as? [[String: Any]]
                        ?? (object["object"] as? String == "subscription" ? [object] : [])
                    if subscriptions.isEmpty, object["data"] == nil {
                        throw IngestionError.malformedJSON(
                            file: file, line: line, column: 1,
                            reason:
                                "not a Stripe list of subscriptions: expected {\"object\": \"list\", \"data\": [...]}")
                    }
                } else {
                    subscriptions = []
                }
                for subscription in subscriptions {
                    ordinal += 1
                    if let customer = subscription["customer"] as? String {
                        throw IngestionError.malformedJSON(
                            file: file, line: line, column: 1,
                            reason:
                                "subscription \(subscription["id"] as? String ?? "\(ordinal)")'s customer is an id (\(customer.prefix(40))), not the customer: list the subscriptions with expand[]=data.customer, so that each has its email"
                        )
                    }
                    try row(ordinal, try encode(stripe(subscription)))
                }
            }
        case .keygen:
            let pages = try documents(
                readAll(path, file: file), file: file,
                what: "a Keygen document: expected {\"data\": [...], \"included\": [...]}")
            var ordinal = 0
            for (line, object) in pages {
                let document = object as? [String: Any] ?? [:]
                guard
                    let licenses = document["data"] as? [[String: Any]]
                        ?? (document["data"] as? [String: Any]).map({ [$0] })
                else {
                    throw IngestionError.malformedJSON(
                        file: file, line: line, column: 1,
                        reason: "a Keygen document without \"data\": expected a license list")
                }
                let included = document["included"] as? [[String: Any]] ?? []
                var users: [String: [String: Any]] = [:]
                for resource in included where resource["type"] as? String == "users" {
                    if let id = resource["id"] as? String {
                        users[id] = resource["attributes"] as? [String: Any] ?? [:]
                    }
                }
                // A document holds many licenses on its line: each is named by its place in the export.
                for license in licenses {
                    ordinal += 1
                    try row(ordinal, try encode(keygen(license, users: users)))
                }
            }
        }
    }

    /// The whole file (`-`: standard input, to its end).
    static func readAll(_ path: String, file: String) throws -> Data {
        if path == "-" {
            // read(2) retried when a signal interrupts it (Foundation's readDataToEndOfFile traps).
            var data = Data()
            try ByteChunkReader(path: "-").forEachChunk { data.append(contentsOf: $0) }
            return data
        }
        do { return try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw IngestionError.cannotOpen(file: file, reason: error.localizedDescription)
        }
    }

    /// A JSON file as documents: the whole of it, or one a line.
    static func documents(_ data: Data, file: String, what: String) throws -> [(line: Int, object: Any)] {
        if let whole = try? JSONSerialization.jsonObject(with: data) { return [(1, whole)] }
        var documents: [(line: Int, object: Any)] = []
        for (index, line) in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
            guard line.contains(where: { $0 > 0x20 }) else { continue }
            guard let object = try? JSONSerialization.jsonObject(with: Data(line)) else {
                throw IngestionError.malformedJSON(
                    file: file, line: index + 1, column: 1, reason: "not \(what) (one document, or one a line)")
            }
            documents.append((index + 1, object))
        }
        return documents
    }

    /// A subscription from Stripe's API as the Dashboard's export writes it (its column names), so
    /// that one profile reads both.
    static func stripe(_ subscription: [String: Any]) -> [String: Any] {
        var row: [String: Any] = [:]
        if let id = subscription["id"] as? String { row["id"] = id }
        if let status = subscription["status"] as? String { row["Status"] = status }
        if let customer = subscription["customer"] as? [String: Any] {
            if let email = customer["email"] as? String { row["Customer Email"] = email }
            if let name = customer["name"] as? String { row["Customer Name"] = name }
        }
        let item = ((subscription["items"] as? [String: Any])?["data"] as? [[String: Any]])?.first
        let price =
            item?["price"] as? [String: Any] ?? item?["plan"] as? [String: Any] ?? subscription["plan"]
            as? [String: Any]
        if let id = price?["id"] as? String { row["Plan"] = id }
        if let quantity = (item?["quantity"] ?? subscription["quantity"]) as? NSNumber { row["Quantity"] = quantity }
        // The Dashboard's minutes, in UTC: the same subscription reads the same from either.
        func minute(_ value: Any?) -> String? {
            guard let seconds = (value as? NSNumber)?.doubleValue else { return nil }
            let text = Date(timeIntervalSince1970: seconds).ISO8601Format()
            return String(text.prefix(16)).replacingOccurrences(of: "T", with: " ")
        }
        if let end = minute(subscription["current_period_end"] ?? item?["current_period_end"]) {
            row["Current Period End (UTC)"] = end
        }
        if let canceled = minute(subscription["canceled_at"]) { row["Canceled At (UTC)"] = canceled }
        if let ended = minute(subscription["ended_at"]) { row["Ended At (UTC)"] = ended }
        for (key, value) in subscription["metadata"] as? [String: Any] ?? [:] { row["\(key) (metadata)"] = text(value) }
        return row
    }

    static func keygen(_ license: [String: Any], users: [String: [String: Any]]) -> [String: Any] {
        var row: [String: Any] = [:]
        let attributes = license["attributes"] as? [String: Any] ?? [:]
        if let id = license["id"] as? String {
            row["keygen_id"] = id
        }
        if let key = attributes["key"] as? String { row["key"] = key }
        if let expiry = attributes["expiry"] as? String { row["expiresAt"] = expiry }
        if let machines = attributes["maxMachines"] as? NSNumber { row["allowedActivations"] = machines }
        if let suspended = attributes["suspended"] as? Bool, suspended { row["suspended"] = true }
        if let created = attributes["created"] as? String { row["createdAt"] = created }
        if let metadata = attributes["metadata"] as? [String: Any] {
            for (key, value) in metadata { row["metadata." + key] = text(value) }
        }
        let relationships = license["relationships"] as? [String: Any] ?? [:]
        func related(_ name: String) -> String? {
            ((relationships[name] as? [String: Any])?["data"] as? [String: Any])?["id"] as? String
        }
        if let policy = related("policy") { row["policy"] = policy }
        if let product = related("product") { row["product"] = product }
        if let userID = related("owner") ?? related("user"), let user = users[userID] {
            if let email = user["email"] as? String { row["email"] = email }
            if let first = user["firstName"] as? String, !first.isEmpty { row["firstName"] = first }
            if let last = user["lastName"] as? String, !last.isEmpty { row["lastName"] = last }
        }
        return row
    }

    /// The request fields that name the source account's own objects: they mean nothing in another.
    static let sourceAccountIDs: Set<String> = [
        "userId", "resellerId", "organizationId", "additionalUserIds", "productVersionId",
        "entitlementSetId", "maintenancePolicyId", "licensePolicyId",
    ]

    static func cryptlex(_ license: [String: Any], markerKey: String) -> [String: Any] {
        var row: [String: Any] = [:]
        for field in LicenseFieldTable.all
        where !sourceAccountIDs.contains(field.name) && field.name != "metadata" && field.name != "licenseTemplateId" {
            guard let value = license[field.name], !(value is NSNull) else { continue }
            row[field.name] = value
        }
        if let id = license["id"] as? String {
            row["cryptlex_id"] = id
        }
        if let template = license["licenseTemplateId"] as? String ?? (license["licenseTemplate"] as? [String: Any])?[
            "id"] as? String
        {
            row["licenseTemplate"] = template
        }
        for case let entry as [String: Any] in license["metadata"] as? [Any] ?? [] {
            guard let key = entry["key"] as? String, key != markerKey, key != "cryptlex_id" else { continue }
            row["metadata." + key] = text(entry["value"] ?? "")
        }
        if let user = license["user"] as? [String: Any] {
            if let email = user["email"] as? String { row["email"] = email }
            if let first = user["firstName"] as? String, !first.isEmpty { row["firstName"] = first }
            if let last = user["lastName"] as? String, !last.isEmpty { row["lastName"] = last }
        }
        return row
    }

    private static func text(_ value: Any) -> String {
        switch value {
        case let string as String: return string
        case is NSNull: return ""
        case let number as NSNumber: return number.stringValue
        default:
            return
                (try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes]))
                .map { String(decoding: $0, as: UTF8.self) } ?? ""
        }
    }

    private static func encode(_ row: [String: Any]) throws -> [UInt8] {
        Array(try JSONSerialization.data(withJSONObject: row, options: [.sortedKeys, .withoutEscapingSlashes]))
    }
}

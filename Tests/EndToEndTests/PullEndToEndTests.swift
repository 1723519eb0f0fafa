import Foundation
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Issue 38: `licprov pull` over the built binaries — the account as a file, selected, edited and
/// run back, moved to another account, and resumed after a kill.
@Suite("licprov pull end to end: export, select, edit, move, resume", .serialized)
struct PullEndToEndTests {
    static let organizations = ["Acme", "Globex", "Initech"]

    /// `count` licenses of prod-1: 500 users, three organizations (one license in four has none),
    /// a reseller on some, metadata, some revoked and some suspended, notes with commas and quotes.
    static func seedFile(_ count: Int) -> String {
        var text =
            "order_id,productId,email,firstName,lastName,organization.name,organization.email,reseller.name,reseller.email,allowedActivations,revoked,suspended,expiresAt,tags,metadata.plan,notes\n"
        for index in 0..<count {
            let organization = index % 4 == 0 ? "" : organizations[index % 3]
            let email = organization.isEmpty ? "" : "admin@\(organization.lowercased()).example"
            let reseller = index % 7 == 0 && !organization.isEmpty ? "Resell One" : ""
            let resellerEmail = reseller.isEmpty ? "" : "one@resell.example"
            let notes = index % 10 == 0 ? "\"seat, \"\"north\"\" office\"" : ""
            text +=
                "P-\(index),prod-1,user\(index % 500)@example.com,First\(index % 500),Last\(index % 500),\(organization),\(email),\(reseller),\(resellerEmail),\(1 + index % 5),\(index % 50 == 0),\(index % 33 == 0),2027-0\(1 + index % 9)-15T00:00:00Z,\(index % 2 == 0 ? "" : "a|b"),\(index % 3 == 0 ? "std" : "pro"),\(notes)\n"
        }
        return text
    }

    /// Fills the account fast (the rate limit paused), then turns the limit back on.
    static func seed(_ emulator: EmulatorProcess, _ scratch: Scratch, count: Int) async throws {
        try await setRateLimit(emulator, paused: true)
        let file = try scratch.write("seed.csv", seedFile(count))
        let outcome = try await BuiltBinaries.runOffPool(
            "licprov",
            [
                "run", file, "--id-column", "order_id", "--api-url", emulator.url, "--rate", "0", "--concurrency", "8",
                "--progress", "none",
            ], environment: RunCommandTests.token)
        #expect(outcome.status == 0, "\(outcome.stdout)\(outcome.stderr)")
        try await setRateLimit(emulator, paused: false)
    }

    static func setRateLimit(_ emulator: EmulatorProcess, paused: Bool) async throws {
        var request = URLRequest(url: URL(string: emulator.url + "/__admin/rate-limit")!)
        request.httpMethod = "PUT"
        request.httpBody = Data(#"{"paused":\#(paused)}"#.utf8)
        let (_, response) = try await URLSession.shared.data(for: request)
        #expect((response as? HTTPURLResponse)?.statusCode == 200)
    }

    static func pull(_ arguments: [String], _ emulator: EmulatorProcess) async throws -> [String: Any] {
        let outcome = try await BuiltBinaries.runOffPool(
            "licprov", ["pull", "--product-id", "prod-1", "--api-url", emulator.url, "--json"] + arguments,
            environment: RunCommandTests.token)
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let line = outcome.stdout.split(separator: "\n").last.map(String.init) ?? "{}"
        return try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] ?? [:]
    }

    /// A CSV file as rows of named cells (RFC 4180 quoting).
    static func csvRows(_ text: String) -> [[String: String]] {
        var records: [[String]] = []
        var record: [String] = []
        var field = ""
        var quoted = false
        var characters = Array(text)[...]
        while let character = characters.popFirst() {
            if quoted {
                if character == "\"" {
                    if characters.first == "\"" { field.append(characters.removeFirst()) } else { quoted = false }
                } else {
                    field.append(character)
                }
            } else if character == "\"" {
                quoted = true
            } else if character == "," {
                record.append(field)
                field = ""
            } else if character == "\r\n" || character == "\n" {
                record.append(field)
                records.append(record)
                record = []
                field = ""
            } else {
                field.append(character)
            }
        }
        guard let header = records.first else { return [] }
        return records.dropFirst().map { Dictionary(uniqueKeysWithValues: zip(header, $0).map { ($0, $1) }) }
    }

    static func licenses(_ emulator: EmulatorProcess) async throws -> [[String: Any]] {
        try await emulator.admin("licenses") as? [[String: Any]] ?? []
    }

    @Test func pullSelectEditAndMoveAnAccount() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let emulator = try EmulatorProcess(["--product", "prod-1", "--seed", "38"])
        try await Self.seed(emulator, scratch, count: 2_000)
        let account = try await Self.licenses(emulator)
        #expect(account.count == 2_000)
        let emails = Dictionary(
            uniqueKeysWithValues: account.map {
                ($0["id"] as? String ?? "", ($0["user"] as? [String: Any])?["email"] as? String ?? "")
            })
        let keys = Dictionary(
            uniqueKeysWithValues: account.map { ($0["id"] as? String ?? "", $0["key"] as? String ?? "") })

        // Every license once, with its key and its user's email, under the rate limit.
        let limitedBefore = try await emulator.counter("rateLimited")
        let requestsBefore = try await emulator.counter("requests")
        let csvPath = scratch.path + "/all.csv"
        let summary = try await Self.pull(["-o", csvPath], emulator)
        #expect(summary["licenses"] as? Int == 2_000)
        let sent = try await emulator.counter("requests") - requestsBefore
        #expect(sent <= 2_000 / 100 + 25, "\(sent) requests")
        #expect(summary["requests"] as? Int == sent)
        #expect(try await emulator.counter("rateLimited") == limitedBefore)
        let rows = Self.csvRows(try scratch.read("all.csv"))
        #expect(rows.count == 2_000)
        #expect(Set(rows.map { $0["licenseId"] ?? "" }).count == 2_000)
        // Organizations' and resellers' names, read by id in batches.
        var names: [String: String] = [:]
        for kind in ["organizations", "resellers"] {
            for record in try await emulator.admin(kind) as? [[String: Any]] ?? [] {
                names[record["id"] as? String ?? ""] = record["name"] as? String
            }
        }
        let directory = Dictionary(
            uniqueKeysWithValues: account.map { license in
                (
                    license["id"] as? String ?? "",
                    (
                        (license["organizationId"] as? String).flatMap { names[$0] } ?? "",
                        (license["resellerId"] as? String).flatMap { names[$0] } ?? ""
                    )
                )
            })
        #expect(Set(directory.values.map(\.0)) == ["", "Acme", "Globex", "Initech"])
        #expect(Set(directory.values.map(\.1)) == ["", "Resell One"])
        for row in rows {
            let id = row["licenseId"] ?? ""
            #expect(row["key"] == keys[id] && row["email"] == emails[id], "\(row)")
            #expect(row["organization.name"] == directory[id]?.0 && row["reseller.name"] == directory[id]?.1, "\(row)")
        }
        #expect(rows.contains { $0["notes"] == "seat, \"north\" office" })
        #expect(!FileManager.default.fileExists(atPath: csvPath + ".pull.json"))

        // The same as a workbook: read back by licprov's own reader as a change file (2,000 rows).
        let workbook = try await Self.pull(["-o", scratch.path + "/all.xlsx"], emulator)
        #expect(workbook["licenses"] as? Int == 2_000)
        let readBack = try await BuiltBinaries.runOffPool(
            "licprov", ["validate", scratch.path + "/all.xlsx", "--action", "suspend"])
        #expect(readBack.status == 0, "\(readBack.stdout)\(readBack.stderr)")
        #expect(readBack.stdout.contains("2000 rows, 2000 valid"), "\(readBack.stdout)")

        // One organization's licenses, suspended through the pulled file.
        let organizations = try await emulator.admin("organizations") as? [[String: Any]] ?? []
        let acmeID = organizations.first { $0["name"] as? String == "Acme" }?["id"] as? String
        let acme = Set(account.filter { $0["organizationId"] as? String == acmeID }.compactMap { $0["id"] as? String })
        #expect(acme.count == 500)
        let selected = try await Self.pull(
            ["-o", scratch.path + "/acme.csv", "--where", "organization.name=Acme"], emulator)
        #expect(selected["licenses"] as? Int == acme.count)
        #expect(Set(Self.csvRows(try scratch.read("acme.csv")).map { $0["licenseId"] ?? "" }) == acme)
        let suspendedBefore = Set(
            account.filter { $0["suspended"] as? Bool == true }.compactMap { $0["id"] as? String })
        // (The runs go with the limit paused: 500 suspensions at 10 a second are not what this tests.)
        try await Self.setRateLimit(emulator, paused: true)
        let suspend = try await BuiltBinaries.runOffPool(
            "licprov",
            [
                "run", scratch.path + "/acme.csv", "--action", "suspend", "--api-url", emulator.url, "--progress",
                "none",
                "--rate", "0",
            ], environment: RunCommandTests.token)
        try await Self.setRateLimit(emulator, paused: false)
        #expect(suspend.status == 0, "\(suspend.stdout)\(suspend.stderr)")
        let suspendedAfter = Set(
            try await Self.licenses(emulator).filter { $0["suspended"] as? Bool == true }.compactMap {
                $0["id"] as? String
            })
        #expect(suspendedAfter == suspendedBefore.union(acme))

        // Seats raised on 10 rows of a fresh pull: exactly 10 updates go out.
        _ = try await Self.pull(["-o", scratch.path + "/fresh.csv"], emulator)
        let fresh = try scratch.read("fresh.csv")
        var lines = fresh.components(separatedBy: "\r\n")
        let header = lines[0].components(separatedBy: ",")
        let seats = try #require(header.firstIndex(of: "allowedActivations"))
        var edited: Set<String> = []
        for index in stride(from: 1, to: lines.count - 1, by: 37) where edited.count < 10 {
            guard !lines[index].contains("\"") else { continue }  // notes with commas: left as they are
            var cells = lines[index].components(separatedBy: ",")
            cells[seats] = String((Int(cells[seats]) ?? 0) + 10)
            edited.insert(cells[0])
            lines[index] = cells.joined(separator: ",")
        }
        #expect(edited.count == 10)
        let editedPath = try scratch.write("edited.csv", lines.joined(separator: "\r\n"))
        let before = try await emulator.admin("changes") as? [String: [String: Int]] ?? [:]
        try await Self.setRateLimit(emulator, paused: true)
        let update = try await BuiltBinaries.runOffPool(
            "licprov",
            [
                "run", editedPath, "--action", "update", "--api-url", emulator.url, "--progress", "none", "--json",
                "--rate", "0",
            ], environment: RunCommandTests.token)
        try await Self.setRateLimit(emulator, paused: false)
        #expect(update.stdout.contains(#""unchanged":1990"#), "\(update.stdout)")
        #expect(update.status == 0, "\(update.stdout)\(update.stderr)")
        let after = try await emulator.admin("changes") as? [String: [String: Int]] ?? [:]
        let updated = Set(after.keys.filter { (after[$0]?["update"] ?? 0) > (before[$0]?["update"] ?? 0) })
        #expect(updated == edited)
        let seatsNow = Dictionary(
            uniqueKeysWithValues: try await Self.licenses(emulator).map {
                ($0["id"] as? String ?? "", $0["allowedActivations"] as? Int ?? -1)
            })
        let freshRows = Dictionary(
            uniqueKeysWithValues: Self.csvRows(fresh).map {
                ($0["licenseId"] ?? "", Int($0["allowedActivations"] ?? "") ?? 0)
            })
        for id in edited { #expect(seatsNow[id] == (freshRows[id] ?? 0) + 10) }

        // The account moved: the API's own array, run into another account with the product mapped.
        let moved = try await Self.pull(["-o", scratch.path + "/all.json", "--format", "cryptlex"], emulator)
        #expect(moved["licenses"] as? Int == 2_000)
        let target = try EmulatorProcess(["--no-rate-limit", "--product", "prod-new", "--seed", "39"])
        let profile = try scratch.write("move.toml", "[values.productId]\nprod-1 = { productId = \"prod-new\" }\n")
        let move = try await BuiltBinaries.runOffPool(
            "licprov",
            [
                "run", scratch.path + "/all.json", "--from", "cryptlex", "--config", profile, "--api-url", target.url,
                "--rate", "0", "--concurrency", "8", "--progress", "none",
            ], environment: RunCommandTests.token)
        #expect(move.status == 0, "\(move.stdout)\(move.stderr)")
        let source = try await Self.licenses(emulator)
        let copies = Dictionary(
            uniqueKeysWithValues: try await Self.licenses(target).map { ($0["key"] as? String ?? "", $0) })
        #expect(copies.count == source.count)
        for license in source {
            let key = license["key"] as? String ?? ""
            let copy = try #require(copies[key], "\(key) was not moved")
            #expect(copy["productId"] as? String == "prod-new")
            for field in ["allowedActivations", "expiresAt", "revoked", "suspended", "notes", "createdAt"] {
                #expect(
                    "\(copy[field] ?? "nil")" == "\(license[field] ?? "nil")", "\(key): \(field)")
            }
            #expect(
                (copy["user"] as? [String: Any])?["email"] as? String
                    == (license["user"] as? [String: Any])?["email"] as? String)
            let plan = { (license: [String: Any]) in
                (license["metadata"] as? [[String: Any]])?.first { $0["key"] as? String == "plan" }?["value"] as? String
            }
            #expect(plan(copy) == plan(license))
        }
    }

    @Test func aPullKilledMidwayResumesFromItsLastPage() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let emulator = try EmulatorProcess(["--no-rate-limit", "--product", "prod-1", "--seed", "40"])
        try await Self.seed(emulator, scratch, count: 1_200)
        let whole = try await Self.pull(["-o", scratch.path + "/whole.csv"], emulator)
        #expect(whole["licenses"] as? Int == 1_200)

        // The emulator stops answering after four more page requests: the pull is killed waiting.
        let output = scratch.path + "/resumed.csv"
        let heldBefore = try await emulator.faultCount("hold")
        let pagesBefore = try await emulator.counter("licenseLookups")
        try await LifecycleChaosTests.setFaults(
            emulator, #"{"rules":[],"hold":{"after":4,"method":"GET","path":"/v3/licenses"}}"#)
        let process = try BuiltBinaries.start(
            "licprov", ["pull", "--product-id", "prod-1", "--api-url", emulator.url, "-o", output],
            environment: RunCommandTests.token)
        let deadline = ContinuousClock.now + .seconds(120)
        while process.isRunning, try await emulator.faultCount("hold") <= heldBefore, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(2))
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal, "the pull ended before the kill")
        #expect(!FileManager.default.fileExists(atPath: output), "a killed pull left a partial output")
        #expect(FileManager.default.fileExists(atPath: output + ".pull.json"))
        try await LifecycleChaosTests.setFaults(emulator, #"{"rules":[]}"#)

        let resumed = try await Self.pull(["-o", output], emulator)
        #expect(resumed["pagesResumed"] as? Int == 4)
        // Pages the emulator served across the killed pull and its resumption, beyond a whole pull's:
        // the pages read twice (the held one was never served).
        let pagesServed = try await emulator.counter("licenseLookups") - pagesBefore
        #expect(pagesServed - (whole["pages"] as? Int ?? 0) == 0, "\(pagesServed) pages served")
        #expect(resumed["licenses"] as? Int == 1_200)
        #expect(try scratch.read("resumed.csv") == (try scratch.read("whole.csv")))
        #expect(!FileManager.default.fileExists(atPath: output + ".pull.json"))
        #expect(!FileManager.default.fileExists(atPath: output + ".pull.ndjson"))
    }
}

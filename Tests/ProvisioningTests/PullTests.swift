import APIRequests
import CryptlexAPI
import CryptlexEmulator
import CryptlexModels
import Foundation
import Logging
import Pull
import Scheduling
import Testing

@testable import Provisioning

/// `licprov pull`'s engine against the emulator in process: the cursor that keeps a pull whole
/// while the account changes, resuming, and the conditions.
@Suite("Pulling the account")
struct PullTests {
    static func pull(
        _ bench: RunBench, output: String, conditions: [String] = [], format: PullFormat = .ndjson,
        stopAfterPages: Int? = nil
    ) async throws -> Result<AccountPull.Summary, PullError> {
        let client = try bench.client()
        defer { Task { try? await client.shutdown() } }
        var configuration = bench.configuration()
        configuration.rate = nil
        let stop = StopSignal()
        let requests = RunRequests.make(configuration, stop: stop, counters: RunCounters())
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let parsed = try conditions.map { try PullCondition.parse($0) }
        let pull = AccountPull(
            .init(productIDs: ["prod-1"], conditions: parsed, output: output, format: format), client: client,
            requests: requests, logger: logger,
            progress: { summary in
                if let stopAfterPages, summary.pages >= stopAfterPages { _ = stop.request(.interrupted) }
            })
        do throws(PullError) {
            return .success(try await pull.run { _ in })
        } catch {
            return .failure(error)
        }
    }

    static func ids(_ path: String) throws -> [String] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map { line in
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            return object?["licenseId"] as? String ?? ""
        }
    }

    @Test func licensesMadeOrDeletedDuringAPullAreNeitherLostNorListedTwice() async throws {
        try await withRunBench { bench in
            var created: [String] = []
            for index in 0..<250 {
                created.append(try await bench.createDirectly(#"{"productId":"prod-1","notes":"n\#(index)"}"#))
            }
            let output = bench.directory + "/pulled.ndjson"
            // Stopped after its first page (as a kill would stop it: the page recorded, nothing after).
            guard case .failure = try await Self.pull(bench, output: output, stopAfterPages: 1) else {
                Issue.record("the pull was not stopped")
                return
            }
            #expect(FileManager.default.fileExists(atPath: output + ".pull.json"))
            #expect(!FileManager.default.fileExists(atPath: output))
            // Meanwhile: one license of the page read is deleted (an offset would then skip the
            // first license of the next page), one not read yet is deleted, two are made.
            try await bench.emulator.store.deleteLicense(id: created[10])
            try await bench.emulator.store.deleteLicense(id: created[180])
            let late = [
                try await bench.createDirectly(#"{"productId":"prod-1","notes":"late 1"}"#),
                try await bench.createDirectly(#"{"productId":"prod-1","notes":"late 2"}"#),
            ]
            let summary = try await Self.pull(bench, output: output).get()
            #expect(summary.pagesResumed == 1)
            let pulled = try Self.ids(output)
            #expect(pulled.count == Set(pulled).count, "a license was listed twice")
            let expected = Set(created).subtracting([created[180]]).union(late)
            #expect(Set(pulled) == expected)
            #expect(!FileManager.default.fileExists(atPath: output + ".pull.json"))
        }
    }

    @Test func licensesThatShareOneCreationTimeArePagedWithinIt() async throws {
        try await withRunBench { bench in
            // A migration's 230 licenses with one createdAt, between two others.
            var created = [
                try await bench.createDirectly(#"{"productId":"prod-1","createdAt":"2020-01-01T00:00:00Z"}"#)
            ]
            for _ in 0..<230 {
                created.append(
                    try await bench.createDirectly(#"{"productId":"prod-1","createdAt":"2021-06-01T00:00:00Z"}"#))
            }
            created.append(
                try await bench.createDirectly(#"{"productId":"prod-1","createdAt":"2019-01-01T00:00:00Z"}"#))
            let output = bench.directory + "/pulled.ndjson"
            let summary = try await Self.pull(bench, output: output).get()
            let pulled = try Self.ids(output)
            #expect(pulled.count == 232 && Set(pulled) == Set(created))
            #expect(pulled.first == created.last, "not oldest first")
            #expect(summary.pages <= 5)
        }
    }

    @Test func conditionsAreSentWhereTheAPIHasThemAndCheckedHere() async throws {
        try await withRunBench { bench in
            for index in 0..<30 {
                _ = try await bench.createDirectly(
                    #"{"productId":"prod-1","allowedActivations":\#(index % 6),"suspended":\#(index % 5 == 0),"expiresAt":"2027-0\#(1 + index % 3)-10T00:00:00Z","metadata":[{"key":"plan","value":"\#(index % 2 == 0 ? "pro" : "std")"}]}"#
                )
            }
            let output = bench.directory + "/pulled.ndjson"
            _ = try await Self.pull(
                bench, output: output,
                conditions: ["suspended=false", "allowedActivations>2", "expiresAt<2027-03-01", "metadata.plan=pro"]
            ).get()
            let rows = try String(contentsOfFile: output, encoding: .utf8).split(separator: "\n").map {
                try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] ?? [:]
            }
            let expected = (0..<30).filter { $0 % 5 != 0 && $0 % 6 > 2 && $0 % 3 < 2 && $0 % 2 == 0 }
            #expect(rows.count == expected.count)
            #expect(
                rows.allSatisfy {
                    ($0["allowedActivations"] as? Int ?? 0) > 2 && $0["metadata.plan"] as? String == "pro"
                })
        }
    }

    @Test func conditionsCompareAsTheAPIDoes() throws {
        let license: [String: JSONAny] = [
            "id": .string("L-1"), "expiresAt": .string("2027-01-15T00:00:00.0000000Z"),
            "allowedActivations": .number(3),
            "user": .object(["email": .string("ann@example.com")]),
            "metadata": .array([.object(["key": .string("plan"), "value": .string("pro")])]),
        ]
        for (text, expected) in [
            ("expiresAt=2027-01-15", true), ("expiresAt=2027-01-15T00:00:00Z", true), ("expiresAt!=2027-01-15", false),
            ("expiresAt>2027-01-14", true), ("expiresAt<2027-01-15", false), ("user.email=ANN@example.com", true),
            ("allowedActivations>2", true), ("allowedActivations<3", false), ("metadata.plan=pro", true),
            ("metadata.plan!=pro", false), ("notes=", true), ("licenseId=L-1", true),
        ] {
            #expect(try PullCondition.parse(text).matches(license) == expected, "\(text)")
        }
    }

    @Test func conditionsAreReadStrictly() throws {
        #expect(try PullCondition.parse("organization.name=Acme, Inc.").value == "Acme, Inc.")
        #expect(try PullCondition.parse("expiresAt<2027-01-31").comparison == .less)
        #expect(try PullCondition.parse("user.email!=a@b.example").comparison == .notEqual)
        #expect(throws: PullError.self) { try PullCondition.parse("colour=blue") }
        #expect(throws: PullError.self) { try PullCondition.parse("revoked=yes") }
        #expect(throws: PullError.self) { try PullCondition.parse("expiresAt>soon") }
        #expect(throws: PullError.self) { try PullCondition.parse("no operator") }
    }
}

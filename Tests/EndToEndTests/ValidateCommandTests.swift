import Foundation
import Testing

@Suite("licprov validate, run as a built binary")
struct ValidateCommandTests {
    @Test(arguments: [
        ["samples/reseller-orders.csv", "--id-column", "order_id"],
        ["samples/migration.csv", "--id-column", "order_id", "--product-id", "prod-desktop"],
        ["samples/shop-export.json", "--id-column", "order_id"],
        ["samples/nightly.ndjson", "--id-column", "order_id"],
        [
            "samples/cryptlex-importer.csv", "--id-column", "order_id", "--product-id", "prod-desktop", "--time-zone",
            "UTC",
        ],
        ["samples/nightly-changes.csv", "--id-column", "event_id", "--target-metadata", "order_id"],
    ])
    func samplesAreCleanAndExitZero(arguments: [String]) throws {
        let outcome = try BuiltBinaries.run("licprov", ["validate"] + arguments)
        #expect(outcome.status == 0, "\(outcome.stderr)")
        #expect(outcome.stdout.hasSuffix("0 errors, 0 warnings\n"))
        #expect(outcome.stderr.isEmpty)
    }

    @Test func problemsGoToStdoutWithPositionsAndExit65() throws {
        let csv = "productId,allowedActivations,expiresAt\np1,1.5,2025-01-01\np1,2,31/12/2025\np1,3,2025-06-30\n"
        let outcome = try BuiltBinaries.run("licprov", ["validate", "-", "--format", "csv"], stdin: Data(csv.utf8))
        #expect(outcome.status == 65)
        #expect(
            outcome.stdout == """
                <stdin>:2: allowedActivations: must be a whole number, not 1.5
                <stdin>:3: expiresAt: must be a date, not "31/12/2025"; write dates as 2025-03-01 or 2025-03-01T10:30:00Z
                <stdin>: 3 rows, 1 valid, 1 licenses to create, 2 errors, 0 warnings

                """)
    }

    @Test func changeRowsAreCheckedWithTheirActionsRules() throws {
        let csv =
            "event_id,action,order_id,allowedActivations,expiresAt\nA-1,renew,,,\nA-2,update,B-1,-5,\nA-3,set-expiry,B-2,,\nA-4,revoke,B-3,,\n"
        let outcome = try BuiltBinaries.run(
            "licprov",
            ["validate", "-", "--format", "csv", "--id-column", "event_id", "--target-metadata", "order_id"],
            stdin: Data(csv.utf8))
        #expect(outcome.status == 65)
        #expect(
            outcome.stdout == """
                <stdin>:2: order_id: is empty; --target-metadata order_id finds the license to renew by it
                <stdin>:3: allowedActivations: must be at least -1 (-1 means unlimited), not -5
                <stdin>:4: expiresAt: is required for set-expiry: a date-time, or perpetual for a license that never expires
                <stdin>: 4 rows, 1 valid, 0 licenses to create, 1 changes to existing licenses, 3 errors, 0 warnings

                """)
    }

    @Test func theListIsCappedWithACount() throws {
        let rows = (1...30).map { _ in "p1,x" }.joined(separator: "\n")
        let outcome = try BuiltBinaries.run(
            "licprov", ["validate", "-", "--format", "csv", "--max-problems", "5"],
            stdin: Data("productId,allowedActivations\n\(rows)\n".utf8))
        #expect(outcome.status == 65)
        let lines = outcome.stdout.split(separator: "\n")
        #expect(lines.count == 7)
        #expect(lines[5] == "(and 25 more; pass --max-problems 0 to list them all)")
    }

    @Test func aMissingFileExits66AndABadFlag64() throws {
        let missing = try BuiltBinaries.run("licprov", ["validate", "no-such-file.csv"])
        #expect(missing.status == 66)
        #expect(missing.stderr.contains("no-such-file.csv: cannot open the file"))
        #expect(missing.stdout.isEmpty)
        let badFlag = try BuiltBinaries.run(
            "licprov", ["validate", "samples/nightly.ndjson", "--unknown-columns", "drop"])
        #expect(badFlag.status == 64)
        let badSet = try BuiltBinaries.run(
            "licprov", ["validate", "samples/nightly.ndjson", "--set", "allowedActivatons=2"])
        #expect(badSet.status == 64)
        #expect(badSet.stderr.contains("did you mean allowedActivations?"))
    }

    @Test func aFileThatCannotBeMappedExits65WithTheHeaderProblem() throws {
        let outcome = try BuiltBinaries.run(
            "licprov", ["validate", "-", "--format", "csv"], stdin: Data("productId;allowedActivations\np1;3\n".utf8))
        #expect(outcome.status == 65)
        #expect(outcome.stderr.contains("pass --delimiter ';'"))
    }

    /// Options with a fixed set of values are typed: help and completions list the values, and any
    /// other value is a usage error naming them, before anything is read.
    @Test(arguments: [
        ("--format", "xlsx", "json"), ("--from", "keygen", "cryptlex"), ("--unknown-columns", "metadata", "ignore"),
        ("--action", "set-expiry", "unrevoke"), ("--delimiter", ";", "|"),
    ])
    func anOptionWithFixedValuesListsThem(flag: String, value: String, other: String) throws {
        let help = try BuiltBinaries.run("licprov", ["run", "--help"])
        let entry = try #require(
            help.stdout.components(separatedBy: "\n  --").first { $0.hasPrefix(flag.dropFirst(2) + " ") })
        #expect(entry.contains("values:") && entry.contains(value) && entry.contains(other), "\(entry)")
        let completion = try BuiltBinaries.run("licprov", ["--generate-completion-script", "bash"]).stdout
        #expect(
            completion.contains("'\(flag)')\n        __licprov_add_completions -W"),
            "bash completion lists no values for \(flag)")
        let wrong = try BuiltBinaries.run("licprov", ["validate", "samples/nightly.ndjson", flag, "no-such-value"])
        #expect(wrong.status == 64)
        #expect(wrong.stderr.contains("Please provide one of") && wrong.stderr.contains(other), "\(wrong.stderr)")
    }
}

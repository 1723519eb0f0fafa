import Foundation
import TestSupport
import Testing

@testable import Provisioning
@testable import Results

@Suite("The results CSV")
struct ResultsFileTests {
    static func temporaryDirectory() throws -> String {
        try ScratchRoot.directory("licprov-results").path
    }

    @Test func linesAreQuotedAndFormulasNeutralised() throws {
        let path = try Self.temporaryDirectory() + "/orders.results.csv"
        try ResultsFile.write(
            [
                .init(
                    sourceLine: 2, rowID: "R-1", unit: 1, status: "created", licenseID: "id-1", licenseKey: "AB12-CD34",
                    httpStatus: 201),
                .init(
                    sourceLine: 3, rowID: "=HYPERLINK(\"http://x\")", unit: 2, status: "failed", httpStatus: 400,
                    message: "allowedActivations: must be at least -1, not -2\nsee line 3"),
                .init(sourceLine: 4, rowID: "@SUM(A1)", unit: 1, status: "rejected", message: "+1 too many"),
            ], to: path)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(
            text == """
                source_line,row_id,unit,status,license_id,license_key,http_status,message,action,expires_at,organization_id,reseller_id\r
                2,R-1,1,created,id-1,AB12-CD34,201,,create,,,\r
                3,"'=HYPERLINK(""http://x"")",2,failed,,,400,"allowedActivations: must be at least -1, not -2
                see line 3",create,,,\r
                4,'@SUM(A1),1,rejected,,,,'+1 too many,create,,,\r

                """)
    }

    @Test func theFileIsPrivateReplacedWholeAndLeavesNoTemporaryFile() throws {
        let directory = try Self.temporaryDirectory()
        let path = directory + "/orders.results.csv"
        try Data("old contents that are longer than the new ones\n".utf8).write(to: URL(fileURLWithPath: path))
        try ResultsFile.write([.init(sourceLine: 2, rowID: "#1", unit: 1, status: "created")], to: path)
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        #expect(try String(contentsOfFile: path, encoding: .utf8).hasSuffix("2,#1,1,created,,,,,create,,,\r\n"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["orders.results.csv"])
    }

    @Test func anUnwritableDirectoryIsAClearError() {
        #expect {
            try ResultsFile.write([], to: "/nonexistent-dir/results.csv")
        } throws: { error in
            (error as? ResultsFile.WriteError)?.errorDescription?.hasPrefix(
                "cannot write the results file /nonexistent-dir/results.csv:") == true
        }
    }
}

/// `--results-columns input`: the row as the file had it, then what became of it.
@Suite("Results with the input's columns")
struct InputResultsTests {
    @Test func everyInputColumnComesFirstThenTheOutcome() async throws {
        try await withRunBench { bench in
            try bench.write(
                """
                order_id,productId,email,allowedActivations,quantity,note
                R-1,prod-1,ann@example.com,2,2,"Lisbon, office"
                R-2,prod-1,bob@example.com,-7,1,"=HYPERLINK(""x"")"
                R-3,prod-1,cy@example.com,1,1,

                """)
            let configuration = bench.configuration(idColumn: "order_id") {
                $0.resultsColumns = .input
                $0.skipInvalid = true
                $0.ingest.unknownColumns = .ignore
            }
            _ = try await bench.run(configuration)
            let text = try String(contentsOfFile: configuration.resultsPath, encoding: .utf8)
            let lines = text.split(separator: "\r\n").map(String.init)
            #expect(
                lines[0]
                    == "order_id,productId,email,allowedActivations,quantity,note,status,license_key,license_id,message"
            )
            #expect(lines.count == 5)  // R-1 twice (quantity 2), R-2, R-3
            #expect(lines[1].hasPrefix(#"R-1,prod-1,ann@example.com,2,2,"Lisbon, office",created,"#))
            #expect(lines[2].hasPrefix(#"R-1,prod-1,ann@example.com,2,2,"Lisbon, office",created,"#))
            #expect(
                lines[3].hasPrefix(
                    #"R-2,prod-1,bob@example.com,'-7,1,"'=HYPERLINK(""x"")",rejected,,,"allowedActivations: must be at least -1"#
                ))
            #expect(lines[4].hasPrefix("R-3,prod-1,cy@example.com,1,1,,created,"))
            let keys = await bench.licenses().map(\.key)
            #expect(keys.allSatisfy { text.contains($0) })
        }
    }

    @Test func ndjsonMembersBecomeColumnsInTheOrderTheyAppear() async throws {
        try await withRunBench { bench in
            let file = bench.directory + "/orders.ndjson"
            try #"""
            {"order_id":"N-1","productId":"prod-1","allowedActivations":3,"tags":["a","b"]}
            {"order_id":"N-2","productId":"prod-1","userLocked":true}

            """#.write(toFile: file, atomically: true, encoding: .utf8)
            var configuration = bench.configuration(idColumn: "order_id") { $0.resultsColumns = .input }
            configuration.inputPath = file
            _ = try await bench.run(configuration)
            let lines = try String(contentsOfFile: configuration.resultsPath, encoding: .utf8).split(separator: "\r\n")
                .map(String.init)
            #expect(
                lines[0]
                    == "order_id,productId,allowedActivations,tags,userLocked,status,license_key,license_id,message")
            #expect(lines[1].hasPrefix(#"N-1,prod-1,3,"[""a"",""b""]",,created,"#))
            #expect(lines[2].hasPrefix("N-2,prod-1,,,true,created,"))
        }
    }
}

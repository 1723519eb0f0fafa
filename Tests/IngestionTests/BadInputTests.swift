import Foundation
import Testing

@testable import Ingestion

/// Every bad input from the ingestion issue: none crashes, none is skipped in silence, and each
/// message names the file, the line and the field, and says what to do.
@Suite("Bad input gets a clear message at its exact position")
struct BadInputTests {
    @Test func unterminatedQuoteAtEndOfFile() throws {
        let result = try read("t.csv", "productId,notes\np1,fine\np1,\"never closed\np1,swallowed\n")
        #expect(result.rows.count == 2)
        #expect(
            result.messages.contains {
                $0.hasPrefix("t.csv:3: column 2 (notes): a quote opened on line 3 is never closed")
            })
        #expect(result.rows[0].isValid && !result.rows[1].isValid)
    }

    @Test func strayQuoteInsideAnUnquotedField() throws {
        // Once per field, however many quotes it holds (`=HYPERLINK("x")` has two).
        let result = try read("t.csv", "productId,notes\np1,a 5\" screen\np1,ok\np1,=HYPERLINK(\"x\")\n")
        #expect(
            result.messages == [
                #"t.csv:2: column 2 (notes): a quote (") inside a field that does not start with a quote; put the whole field in quotes and double the quotes inside it ("")"#,
                #"t.csv:4: column 2 (notes): a quote (") inside a field that does not start with a quote; put the whole field in quotes and double the quotes inside it ("")"#,
            ])
        #expect(result.summary.validRows == 1)
    }

    @Test func rowsWithMoreOrFewerFieldsThanTheHeader() throws {
        let result = try read("t.csv", "productId,notes,allowedActivations\np1,a,b,1\np1,only\np1,ok,2\n")
        #expect(
            result.messages == [
                "t.csv:2: has 4 fields but the header has 3; a value may hold an unquoted commas (,) — put such values in quotes",
                "t.csv:3: has 2 fields but the header has 3; a value may be missing, or a quoted value may be cut short",
            ])
        #expect(result.summary.validRows == 1)
    }

    @Test func duplicateHeaderNames() throws {
        let error = try readError("t.csv", Array("productId,allowedActivations,Allowed Activations\n".utf8))
        #expect(
            error?.message
                == "t.csv:1: header: columns 2 (allowedActivations) and 3 (Allowed Activations) both set allowedActivations; keep one"
        )
    }

    @Test func emptyHeaderName() throws {
        let error = try readError("t.csv", Array("productId,,notes\np1,x,y\n".utf8))
        #expect(error?.message == "t.csv:1: header: column 2 has no name; name it or delete the column")
    }

    @Test func emptyFile() throws {
        let error = try readError("t.csv", [])
        #expect(error?.message.contains("the file is empty") == true)
    }

    @Test func headerOnlyIsAWarningNotAnError() throws {
        let result = try read("t.csv", "productId,allowedActivations\r\n")
        #expect(result.rows.isEmpty)
        #expect(result.summary.isClean)
        #expect(result.summary.warnings == 1)
        #expect(result.messages == ["t.csv:2: warning: the file has no rows; there is nothing to provision"])
    }

    @Test func excelExportWithBOMAndCRLF() throws {
        let result = try read(
            "t.csv", "\u{FEFF}productId,allowedActivations,notes\r\np1,3,\"multi\r\nline\"\r\np2,4,plain\r\n",
            IngestOptions())
        #expect(result.messages.isEmpty)
        #expect(result.rows.map(\.request.productId) == ["p1", "p2"])
        #expect(result.rows.map(\.position.line) == [2, 4])
        #expect(result.rows[0].request.notes == "multi\r\nline")
    }

    @Test func sepLineSetsTheDelimiter() throws {
        let result = try read("t.csv", "sep=;\nproductId;allowedActivations\np1;3\n", IngestOptions())
        #expect(result.messages.isEmpty)
        #expect(result.rows.first?.request.allowedActivations == 3)
        #expect(result.rows.first?.position.line == 3)
    }

    @Test func aSemicolonFileReadAsCommaGetsADelimiterHint() throws {
        let error = try readError("t.csv", Array("productId;allowedActivations\np1;3\n".utf8))
        #expect(
            error?.message
                == "t.csv:1: header: only one column was found (\"productId;allowedActivations\"): the file seems to be separated by semicolons (;); pass --delimiter ';'"
        )
    }

    @Test func utf16File() throws {
        let utf16 = [UInt8]([0xFF, 0xFE]) + Array("productId\n".utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] })
        let error = try readError("t.csv", utf16)
        #expect(
            error?.message
                == "t.csv: the file is UTF-16, not UTF-8. Save it as UTF-8 (in Excel: Save As → CSV UTF-8) and try again."
        )
        let noBOM = Array("productId\n".utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] })
        #expect(try readError("t.csv", noBOM)?.localizedDescription.contains("UTF-16") == true)
    }

    @Test func anInvalidUTF8Byte() throws {
        let path = try temporaryFile("t.csv", Array("productId,notes\np1,caf".utf8) + [0xE9] + Array("\np1,ok\n".utf8))
        let result = try read(path: path)
        #expect(
            result.messages == [
                "t.csv:2: column 2 (notes): is not valid UTF-8 (byte 4 of the field); save the file as UTF-8"
            ])
    }

    @Test func nulBytes() throws {
        let path = try temporaryFile("t.csv", Array("productId,notes\np1,a".utf8) + [0] + Array("b\n".utf8))
        let result = try read(path: path)
        #expect(result.messages.count == 1)
        #expect(
            result.messages.first?.hasPrefix(
                "t.csv:2: column 2 (notes): contains NUL bytes (the file may be binary or UTF-16); save it as UTF-8 text"
            ) == true)
    }

    @Test func aOneMegabyteField() throws {
        let result = try read("t.csv", "productId,notes\np1,\(String(repeating: "x", count: 1_000_000))\np1,short\n")
        #expect(result.messages.count == 1)
        #expect(
            result.messages.first?.hasPrefix("t.csv:2: notes: must be at most 4096 characters long, not 1000000")
                == true)
        #expect(result.summary.validRows == 1)
    }

    @Test func jsonThatIsNotAnArray() throws {
        let error = try readError("t.json", Array("  {\"productId\": \"p1\"}".utf8))
        #expect(
            error?.message.hasPrefix(
                "t.json:1:3: the file holds one JSON object, not an array of orders; put the orders in [ … ], or use NDJSON (one object per line)"
            ) == true)
    }

    @Test func trailingGarbageAfterTheJSONArray() throws {
        let error = try readError("t.json", Array("[\n{\"productId\":\"p1\"}\n]\n,{}".utf8))
        #expect(
            error?.message.hasPrefix(
                "t.json:4:1: text after the end of the array; the file must hold exactly one array") == true)
    }

    @Test func aJSONElementThatIsNotAnObject() throws {
        let result = try read("t.json", "[\n{\"productId\":\"p1\"},\n42,\n\"x\",\n{\"productId\":\"p2\"}\n]")
        #expect(result.rows.count == 4)
        #expect(
            result.messages == [
                "t.json:3: element 2 is a number, not an object with license fields",
                "t.json:4: element 3 is text, not an object with license fields",
            ])
        #expect(result.summary.validRows == 2)
    }

    @Test func malformedJSONInsideAnElementNamesLineAndColumn() throws {
        let error = try readError("t.json", Array("[\n{\"productId\":\"p1\"},\n{\"productId\" \"p2\"}\n]".utf8))
        #expect(
            error?.message.hasPrefix(
                "t.json:3:14: element 2 is not valid JSON: expected ':' after the field name \"productId\"") == true)
    }

    @Test func aJSONArrayCutShort() throws {
        let error = try readError("t.json", Array("[{\"productId\":\"p1\"},".utf8))
        #expect(error?.message.contains("the file ends inside the array (is it cut short?)") == true)
    }

    @Test func aBadNDJSONLineInTheMiddle() throws {
        let result = try read("t.ndjson", "{\"productId\":\"p1\"}\n{\"productId\": p2}\n\n{\"productId\":\"p3\"}\n")
        #expect(result.rows.count == 3)
        #expect(result.messages == ["t.ndjson:2: column 15: not valid JSON: unexpected character 'p'"])
        #expect(result.rows.map(\.position.line) == [1, 2, 4])
        #expect(result.summary.validRows == 2)
    }

    @Test(arguments: [
        (
            "allowedActivations", "2147483648",
            "allowedActivations: must be between -2147483648 and 2147483647, not 2147483648"
        ),
        ("allowedActivations", "1.5", "allowedActivations: must be a whole number, not 1.5"),
        (
            "allowedActivations", "3.0",
            "allowedActivations: must be a whole number written without a decimal point (3), not 3.0"
        ),
        ("allowedActivations", "three", "allowedActivations: must be a whole number, not \"three\""),
        ("allowedActivations", "-2", "allowedActivations: must be at least -1 (-1 means unlimited), not -2"),
        (
            "expiresAt", "31/12/2025",
            "expiresAt: must be a date, not \"31/12/2025\"; write dates as 2025-03-01 or 2025-03-01T10:30:00Z"
        ),
        (
            "expiresAt", "2025-02-30",
            "expiresAt: is not a calendar date, not \"2025-02-30\"; write dates as 2025-03-01 or 2025-03-01T10:30:00Z"
        ),
        (
            "expiresAt", "2025-03-01T10:30:00",
            "expiresAt: has no time zone, not \"2025-03-01T10:30:00\"; add Z for UTC (2025-03-01T10:30:00Z) or an offset such as +02:00, or pass --time-zone ZONE (UTC, +02:00, Europe/Berlin) to read every time without one in that zone"
        ),
        (
            "type", "floating",
            "type: must be one of node-locked, hosted-floating, on-premise-floating, not \"floating\""
        ),
        (
            "subscriptionInterval", "1 year",
            "subscriptionInterval: must be an ISO 8601 duration such as P1Y, P6M, P30D or PT24H, not \"1 year\""
        ),
        ("revoked", "maybe", "revoked: must be true/false, yes/no or 1/0, not \"maybe\""),
        ("serverSyncInterval", "60", "serverSyncInterval: must be at least 180 seconds, not 60"),
        ("key", "SHORT-KEY", "key: must be at least 16 characters long, not 9"),
        ("tags", "a|b|c|d|e|f", "tags: may have at most 5 items, not 6"),
    ])
    func aBadValueNamesTheFieldAndTheFix(column: String, value: String, expected: String) throws {
        let result = try read("t.csv", "productId,\(column)\np1,\"\(value)\"\n")
        #expect(result.messages == ["t.csv:2: \(expected)"])
    }

    @Test func anUnknownColumnIsAnErrorWithTheNearestField() throws {
        let result = try read("t.csv", "productId,allowedActivation,color\np1,3,red\n")
        #expect(
            result.messages == [
                "t.csv:1: allowedActivation: is not a license field; did you mean allowedActivations? map it (--map 'allowedActivation=FIELD', or [columns] in a profile), rename the column, or pass --unknown-columns metadata (send it as metadata) or --unknown-columns ignore",
                "t.csv:1: color: is not a license field; map it (--map 'color=FIELD', or [columns] in a profile), rename the column, or pass --unknown-columns metadata (send it as metadata) or --unknown-columns ignore",
            ])
        #expect(!result.summary.isClean)
        let asMetadata = try read("t.csv", "productId,color\np1,red\n", IngestOptions(unknownColumns: .metadata))
        #expect(asMetadata.rows.first?.request.metadata == [.init(key: "color", value: "red")])
        let ignored = try read("t.csv", "productId,color\np1,red\n", IngestOptions(unknownColumns: .ignore))
        #expect(ignored.summary.isClean && ignored.rows.first?.request.metadata == nil)
    }

    @Test func duplicateKeysAndRowIDsWithinTheFile() throws {
        let result = try read(
            "t.csv", "order_id,key\nA,KEY-0000-0000-0001\nB,KEY-0000-0000-0001\nA,KEY-0000-0000-0002\n",
            IngestOptions(idColumn: "order_id", defaults: [("productId", "p1")]))
        #expect(
            result.messages == [
                "t.csv:3: key: \"KEY-0000-0000-0001\" is also the key of the row on line 2; a key belongs to one license",
                "t.csv:4: order_id: \"A\" is also the id of the row on line 2; ids must be unique",
            ])
    }

    @Test func aMissingProductIsAHeaderErrorNotAMillionRowErrors() throws {
        let error = try readError("t.csv", Array("allowedActivations\n3\n".utf8), IngestOptions())
        #expect(
            error?.message.hasPrefix(
                "t.csv:1: header: no productId column; add one, or give every row the same product with --product-id")
                == true)
    }
}

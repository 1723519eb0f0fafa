import FileFormats
import Foundation
import Ingestion
import TestSupport

/// Writes `contents` to a temporary file with `name` and returns its path.
func temporaryFile(_ name: String, _ contents: [UInt8]) throws -> String {
    let directory = try ScratchRoot.directory("licprov-tests")
    let url = directory.appendingPathComponent(name)
    try Data(contents).write(to: url)
    return url.path
}

func temporaryFile(_ name: String, _ text: String) throws -> String {
    try temporaryFile(name, Array(text.utf8))
}

/// Everything a read produced.
struct ReadResult {
    var rows: [OrderRow]
    var summary: IngestSummary
    /// File-level and row diagnostics, rendered, in order.
    var messages: [String] {
        (summary.fileDiagnostics.map(\.description) + rows.flatMap(\.diagnostics).map(\.description)).map(
            withoutTemporaryDirectory)
    }
}

func read(_ name: String, _ text: String, _ options: IngestOptions = IngestOptions(defaults: [("productId", "p1")]))
    throws -> ReadResult
{
    try read(path: temporaryFile(name, text), options)
}

func read(path: String, _ options: IngestOptions = IngestOptions(defaults: [("productId", "p1")])) throws -> ReadResult
{
    var rows: [OrderRow] = []
    let summary = try OrderFileReader(path: path, options: options).read { rows.append($0) }
    return ReadResult(rows: rows, summary: summary)
}

/// The error a read throws, or nil.
func readError(
    _ name: String, _ bytes: [UInt8], _ options: IngestOptions = IngestOptions(defaults: [("productId", "p1")])
) throws -> IngestionError? {
    let path = try temporaryFile(name, bytes)
    do {
        _ = try read(path: path, options)
        return nil
    } catch let error as IngestionError {
        return error
    }
}

/// A message with the temporary directory taken out of its file paths (`/tmp/licprov-tests-…/t.csv` → `t.csv`).
func withoutTemporaryDirectory(_ text: String) -> String {
    text.replacingOccurrences(of: #"/[^ ]*licprov-tests-[0-9A-F-]+/"#, with: "", options: .regularExpression)
}

extension IngestionError {
    /// The message without the temporary directory.
    var message: String { withoutTemporaryDirectory(localizedDescription) }
}

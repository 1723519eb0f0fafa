import Foundation

/// A problem that stops reading a file altogether: no row after it could be trusted.
///
/// Row-level problems are ``Diagnostic``s instead: recorded, counted, and the next row is read.
package enum IngestionError: Error, Sendable, Equatable, LocalizedError {
    case cannotOpen(file: String, reason: String)
    case readFailed(file: String, reason: String)
    case emptyFile(file: String)
    case wrongEncoding(file: String, encoding: String)
    case unknownFormat(file: String)
    case badHeader(file: String, line: Int, reason: String)
    case malformedJSON(file: String, line: Int, column: Int, reason: String)
    case badOption(String)
    /// A workbook or an export that cannot be read as what it claims to be.
    case unreadable(file: String, reason: String)

    package var errorDescription: String? {
        switch self {
        case .cannotOpen(let file, let reason):
            "\(file): cannot open the file (\(reason)). Check the path and that you may read it."
        case .readFailed(let file, let reason):
            "\(file): reading failed (\(reason))."
        case .emptyFile(let file):
            "\(file): the file is empty. Export the orders again, with a header line and one line per license."
        case .wrongEncoding(let file, let encoding):
            "\(file): the file is \(encoding), not UTF-8. Save it as UTF-8 (in Excel: Save As → CSV UTF-8) and try again."
        case .unknownFormat(let file):
            "\(file): cannot tell the format from the name. Use --format csv, json, ndjson or xlsx."
        case .badHeader(let file, let line, let reason):
            "\(file):\(line): header: \(reason)"
        case .malformedJSON(let file, let line, let column, let reason):
            "\(file):\(line):\(column): \(reason)"
        case .badOption(let reason):
            reason
        case .unreadable(let file, let reason):
            "\(file): \(reason)"
        }
    }
}

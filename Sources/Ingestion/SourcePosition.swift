/// Where a row came from, so every message can point at it.
public struct SourcePosition: Sendable, Hashable, CustomStringConvertible {
    /// The physical line where the row starts (1-based; a CSV record with quoted newlines spans
    /// several lines and is reported at its first).
    public var line: Int
    /// The row's ordinal among data rows: CSV records after the header, JSON array elements,
    /// NDJSON objects (1-based).
    public var ordinal: Int

    public init(line: Int, ordinal: Int) {
        self.line = line
        self.ordinal = ordinal
    }

    public var description: String { "line \(line)" }
}

/// The formats licprov reads.
public enum InputFormat: String, Sendable, CaseIterable {
    case csv, json, ndjson, xlsx

    /// The format an extension implies (`.csv`, `.tsv`, `.json`, `.ndjson`, `.jsonl`, `.xlsx`).
    public init?(pathExtension: String) {
        switch pathExtension.lowercased() {
        case "csv", "tsv", "txt": self = .csv
        case "json": self = .json
        case "ndjson", "jsonl": self = .ndjson
        case "xlsx", "xlsm": self = .xlsx
        default: return nil
        }
    }
}

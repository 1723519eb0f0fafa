/// Where a row came from, so every message can point at it.
package struct SourcePosition: Sendable, Hashable, CustomStringConvertible {
    /// The physical line where the row starts (1-based; a CSV record with quoted newlines spans
    /// several lines and is reported at its first).
    package var line: Int
    /// The row's ordinal among data rows: CSV records after the header, JSON array elements,
    /// NDJSON objects (1-based).
    package var ordinal: Int

    package init(line: Int, ordinal: Int) {
        self.line = line
        self.ordinal = ordinal
    }

    package var description: String { "line \(line)" }
}

/// The formats licprov reads.
package enum InputFormat: String, Sendable, CaseIterable {
    case csv, json, ndjson, xlsx

    /// The format an extension implies (`.csv`, `.tsv`, `.json`, `.ndjson`, `.jsonl`, `.xlsx`).
    package init?(pathExtension: String) {
        switch pathExtension.lowercased() {
        case "csv", "tsv", "txt": self = .csv
        case "json": self = .json
        case "ndjson", "jsonl": self = .ndjson
        case "xlsx", "xlsm": self = .xlsx
        default: return nil
        }
    }
}

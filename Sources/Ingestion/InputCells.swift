import CryptlexModels
import FileFormats
import Foundation

/// An order file's own cells, by source line: what `--results-columns input` writes before each
/// row's results, so a reseller can mail keys from the file they sent.
///
/// CSV: the header and each record's fields as written. JSON and NDJSON: the objects' top-level
/// members, in the order they first appear; a string as it is, a number or `true`/`false` as
/// written, an array or object as JSON. Held in memory (the results are written in file order
/// from the journal, and joined to these by line).
package struct InputCells: Sendable {
    package var header: [String] = []
    package var byLine: [Int: [String]] = [:]

    package static func read(path: String, options: IngestOptions) throws -> InputCells {
        let reader = try OrderFileReader(path: path, options: options)
        var cells = InputCells()
        if let from = options.source {
            var objects: [(Int, [String: JSONAny])] = []
            try ExportRows.forEachRow(path: path, file: path, source: from) { line, bytes in
                let data = Data(bytes)
                let object = Self.object(data) ?? [:]
                objects.append((line, object))
                cells.noteKeys(of: object, in: data)
            }
            for (line, object) in objects { cells.byLine[line] = cells.header.map { Self.text(object[$0]) } }
            return cells
        }
        if reader.format == .xlsx {
            let workbook = try XLSXReader(path: path, displayName: path, sheet: options.sheet)
            var width = 0
            try workbook.forEachRow { row in
                if cells.header.isEmpty { width = (row.cells.map(\.column).max() ?? -1) + 1 }
                var fields = [String](repeating: "", count: width)
                for (column, text) in row.cells where column < width { fields[column] = text }
                if cells.header.isEmpty {
                    cells.header = fields.map(\.trimmed)
                } else {
                    cells.byLine[row.number] = fields
                }
            }
            return cells
        }
        let source = try ByteChunkReader(path: path)
        switch reader.format {
        case .xlsx: break  // above
        case .csv:
            var csv = CSVReader(file: source.displayName, delimiter: options.delimiter)
            var sawHeader = false
            let handle: (CSVReader.Record) throws -> Void = { record in
                let decoded = record.decoded()
                if sawHeader {
                    cells.byLine[decoded.line] = decoded.fields
                } else {
                    cells.header = decoded.fields.map(\.trimmed)
                    sawHeader = true
                }
            }
            try source.forEachChunk { try csv.consume($0, emit: handle) }
            try csv.finish(emit: handle)
        case .ndjson:
            var ndjson = NDJSONReader(file: source.displayName)
            var objects: [(Int, [String: JSONAny])] = []
            let handle: NDJSONReader.Emit = { bytes, line in
                let data = Data(bytes)
                let object = Self.object(data) ?? [:]
                objects.append((line, object))
                cells.noteKeys(of: object, in: data)
            }
            try source.forEachChunk { try ndjson.consume($0, emit: handle) }
            try ndjson.finish(emit: handle)
            for (line, object) in objects { cells.byLine[line] = cells.header.map { Self.text(object[$0]) } }
        case .json:
            var array = JSONArrayReader(file: source.displayName)
            var objects: [(Int, [String: JSONAny])] = []
            try source.forEachChunk { chunk in
                try array.consume(chunk) { element in
                    let data = Data(element.bytes)
                    let object = Self.object(data) ?? [:]
                    objects.append((element.line, object))
                    cells.noteKeys(of: object, in: data)
                }
            }
            try array.finish()
            for (line, object) in objects { cells.byLine[line] = cells.header.map { Self.text(object[$0]) } }
        }
        return cells
    }

    /// Adds an object's member names to the header, in the order they are written in `data`.
    private mutating func noteKeys(of object: [String: JSONAny], in data: Data) {
        // Decoding forgets the order of members; the names are found in the text. Only names
        // not seen before are placed (after the first rows, none: nothing to search).
        guard object.keys.contains(where: { !header.contains($0) }) else { return }
        let text = String(decoding: data, as: UTF8.self)
        let ordered = object.keys.sorted {
            (text.range(of: "\"\($0)\"")?.lowerBound ?? text.endIndex)
                < (text.range(of: "\"\($1)\"")?.lowerBound ?? text.endIndex)
        }
        for key in ordered where !header.contains(key) { header.append(key) }
    }

    private static func object(_ data: Data) -> [String: JSONAny]? {
        try? JSONDecoder().decode([String: JSONAny].self, from: data)
    }

    private static func text(_ value: JSONAny?) -> String {
        switch value {
        case nil, .null?: return ""
        case .string(let string)?: return string
        case .bool(let flag)?: return flag ? "true" : "false"
        case let other?:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            return (try? encoder.encode(other)).map { String(decoding: $0, as: UTF8.self) } ?? ""
        }
    }
}

import CryptlexModels
import FileFormats
import Foundation
import Ingestion

/// Writes a pull's output from its spool, one license at a time: to `FILE.tmp`, renamed onto the
/// output once whole (or to standard output).
enum PullWriter {
    static func write(
        spool: String, state: PullState, format: PullFormat, output: String?,
        write: (UnsafeRawBufferPointer) -> Void
    ) throws(PullError) {
        let fields = PulledLicense.fieldColumns(present: Set(state.fields))
        let columns = PulledLicense.columns(fields: fields, metadataKeys: state.metadataKeys)
        let temporary = (output ?? spool) + ".tmp"
        do {
            switch format {
            case .xlsx:
                var kinds: [String: LicenseField.Kind] = [:]
                for field in fields { kinds[field.name] = field.kind }
                let workbook = try XLSXWriter(path: temporary, columns: columns)
                try forEachLicense(spool) { license in
                    try workbook.addRow(PulledLicense.cells(license, columns: columns, kinds: kinds))
                }
                try workbook.finish()
            case .csv, .ndjson, .cryptlex:
                FileManager.default.createFile(atPath: temporary, contents: nil, attributes: [.posixPermissions: 0o600])
                guard let file = FileHandle(forWritingAtPath: temporary) else {
                    throw PullError.file("cannot write \(temporary)")
                }
                defer { try? file.close() }
                var buffer: [UInt8] = []
                func flush(_ force: Bool = false) throws {
                    guard force || buffer.count > 1 << 16 else { return }
                    try file.write(contentsOf: buffer)
                    buffer.removeAll(keepingCapacity: true)
                }
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
                switch format {
                case .csv:
                    buffer += Array((columns.map(csvField).joined(separator: ",") + "\r\n").utf8)
                    try forEachLicense(spool) { license in
                        let cells = PulledLicense.textRow(license, columns: columns)
                        buffer += Array((cells.map(csvField).joined(separator: ",") + "\r\n").utf8)
                        try flush()
                    }
                case .ndjson:
                    try forEachLicense(spool) { license in
                        buffer += try encoder.encode(PulledLicense.jsonRow(license, columns: columns))
                        buffer.append(UInt8(ascii: "\n"))
                        try flush()
                    }
                default:
                    buffer += Array("[".utf8)
                    var first = true
                    try forEachLine(spool) { line in
                        buffer += Array((first ? "\n" : ",\n").utf8)
                        buffer += line
                        first = false
                        try flush()
                    }
                    buffer += Array((first ? "]\n" : "\n]\n").utf8)
                }
                try flush(true)
                try file.synchronize()
            }
        } catch let error as PullError {
            throw error
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw PullError.file("cannot write \(output ?? "the output"): \(error.localizedDescription)")
        }
        if let output {
            guard rename(temporary, output) == 0 else {
                throw PullError.file("cannot move \(temporary) onto \(output): \(String(cString: strerror(errno)))")
            }
        } else {
            defer { try? FileManager.default.removeItem(atPath: temporary) }
            guard let reader = FileHandle(forReadingAtPath: temporary) else {
                throw PullError.file("cannot read \(temporary)")
            }
            defer { try? reader.close() }
            while let chunk = try? reader.read(upToCount: 1 << 16), !chunk.isEmpty {
                chunk.withUnsafeBytes { write($0) }
            }
        }
    }

    /// Each spooled license, decoded.
    private static func forEachLicense(_ spool: String, _ body: ([String: JSONAny]) throws -> Void) throws {
        let decoder = JSONDecoder()
        try forEachLine(spool) { line in try body(try decoder.decode([String: JSONAny].self, from: Data(line))) }
    }

    /// Each line of the spool, without its newline.
    private static func forEachLine(_ path: String, _ body: ([UInt8]) throws -> Void) throws {
        guard let reader = FileHandle(forReadingAtPath: path) else { throw PullError.file("cannot read \(path)") }
        defer { try? reader.close() }
        var pending: [UInt8] = []
        while let chunk = try reader.read(upToCount: 1 << 16), !chunk.isEmpty {
            pending += chunk
            var start = 0
            while let end = pending[start...].firstIndex(of: UInt8(ascii: "\n")) {
                if end > start { try body(Array(pending[start..<end])) }
                start = end + 1
            }
            pending.removeFirst(start)
        }
        if !pending.isEmpty { try body(pending) }
    }

    /// A CSV field, quoted when it must be (RFC 4180).
    static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

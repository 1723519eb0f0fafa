import CryptlexModels
import Foundation

#if canImport(Glibc)
    import Glibc
    private let systemWrite = Glibc.write
#elseif canImport(Darwin)
    import Darwin
    private let systemWrite = Darwin.write
#endif

/// The results CSV: one line per license with its key or its error, written so that a reader
/// never sees half a file and no other user can read it.
///
/// - Written to a temporary file beside the target (mode 0600), synced, then renamed over it.
/// - Quoted per RFC 4180 (fields with `,` `"` CR or LF are quoted, quotes doubled), CRLF line ends.
/// - A cell that starts with `=`, `+`, `-`, `@`, a tab or a CR is prefixed with `'`, so a
///   spreadsheet shows it as text instead of running it as a formula (OWASP's advice for CSV
///   injection). Programs reading the file should strip that one leading quote.
package enum ResultsFile {
    /// One line of the file.
    package struct Line: Sendable, Equatable {
        package var sourceLine: Int
        package var rowID: String
        package var unit: Int
        package var status: String
        package var licenseID: String?
        package var licenseKey: String?
        package var httpStatus: Int?
        package var message: String?
        /// `create`, or the change the row asked for.
        package var action = LicenseAction.create
        /// The expiry a renew or set-expiry left.
        package var expiresAt: String?
        /// The Cryptlex ids of the organization and reseller the license was linked to (`organization.*`, `reseller.*` columns).
        package var organizationID: String?
        package var resellerID: String?

        package init(
            sourceLine: Int, rowID: String, unit: Int, status: String, licenseID: String? = nil,
            licenseKey: String? = nil, httpStatus: Int? = nil, message: String? = nil, action: LicenseAction = .create,
            expiresAt: String? = nil
        ) {
            self.action = action
            self.expiresAt = expiresAt
            self.sourceLine = sourceLine
            self.rowID = rowID
            self.unit = unit
            self.status = status
            self.licenseID = licenseID
            self.licenseKey = licenseKey
            self.httpStatus = httpStatus
            self.message = message
        }

        /// The line's cells, in ``ResultsFile/header`` order.
        var cells: [String] {
            [
                String(sourceLine), rowID, String(unit), status, licenseID ?? "", licenseKey ?? "",
                httpStatus.map(String.init) ?? "", message ?? "",
                action.rawValue, expiresAt ?? "", organizationID ?? "", resellerID ?? "",
            ]
        }
    }

    package static let header: [String] = [
        "source_line", "row_id", "unit", "status", "license_id", "license_key", "http_status", "message",
        "action", "expires_at", "organization_id", "reseller_id",
    ]

    /// Why the file could not be written.
    package struct WriteError: Error, LocalizedError, Sendable {
        package var path: String
        package var reason: String
        package var errorDescription: String? { "cannot write the results file \(path): \(reason)" }
    }

    /// Writes `lines` to `path` atomically.
    package static func write(_ lines: some Sequence<Line>, to path: String) throws(WriteError) {
        let writer = try Writer(path: path)
        for line in lines { try writer.append(line) }
        try writer.commit()
    }

    /// Writes the file line by line (memory stays flat), to a temporary file that ``commit()``
    /// syncs and renames over the target. Dropped without a commit, it removes the temporary file.
    package final class Writer {
        package let path: String
        private let temporary: String
        private let directory: String
        private var descriptor: Int32
        private var buffer: [UInt8] = []

        package init(path: String, header: [String] = ResultsFile.header) throws(WriteError) {
            self.path = path
            let folder = (path as NSString).deletingLastPathComponent
            directory = folder.isEmpty ? "." : folder
            temporary = directory + "/.\((path as NSString).lastPathComponent).\(getpid()).tmp"
            descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            guard descriptor >= 0 else { throw WriteError(path: path, reason: String(cString: strerror(errno))) }
            fchmod(descriptor, 0o600)
            buffer.reserveCapacity(1 << 16)
            ResultsFile.append(header, to: &buffer)
        }

        deinit {
            if descriptor >= 0 {
                close(descriptor)
                unlink(temporary)
            }
        }

        package func append(_ line: Line) throws(WriteError) {
            try append(cells: line.cells)
        }

        /// One line of any layout (the header given at ``init(path:header:)``).
        package func append(cells: [String]) throws(WriteError) {
            ResultsFile.append(cells, to: &buffer)
            if buffer.count >= 1 << 16 { try flush() }
        }

        /// Syncs the file and renames it over the target (and syncs the folder, so the rename
        /// itself survives a power loss).
        package func commit() throws(WriteError) {
            try flush()
            guard fsync(descriptor) == 0 else { throw WriteError(path: path, reason: String(cString: strerror(errno))) }
            close(descriptor)
            descriptor = -1
            guard rename(temporary, path) == 0 else {
                let reason = String(cString: strerror(errno))
                unlink(temporary)
                throw WriteError(path: path, reason: reason)
            }
            let directoryDescriptor = open(directory, O_RDONLY | O_CLOEXEC)
            if directoryDescriptor >= 0 {
                fsync(directoryDescriptor)
                close(directoryDescriptor)
            }
        }

        private func flush() throws(WriteError) {
            var offset = 0
            while offset < buffer.count {
                let written = buffer.withUnsafeBytes {
                    systemWrite(descriptor, $0.baseAddress! + offset, $0.count - offset)
                }
                if written < 0 {
                    if errno == EINTR { continue }
                    throw WriteError(path: path, reason: String(cString: strerror(errno)))
                }
                offset += written
            }
            buffer.removeAll(keepingCapacity: true)
        }
    }

    /// Lines as CSV bytes, for standard output; `header` adds the header line first.
    /// Any rows of cells as CSV bytes, quoted and neutralised like the results file's.
    package static func encodeRows(_ rows: [[String]]) -> [UInt8] {
        var buffer: [UInt8] = []
        for row in rows { append(row, to: &buffer) }
        return buffer
    }

    package static func encode(_ lines: some Sequence<Line>, header: Bool = true) -> [UInt8] {
        var buffer: [UInt8] = []
        if header { append(Self.header, to: &buffer) }
        for line in lines { append(line.cells, to: &buffer) }
        return buffer
    }

    private static func needsQuotes(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: ","), UInt8(ascii: "\""), 0x0A, 0x0D: true
        default: false
        }
    }

    /// One CSV record, neutralised and quoted.
    static func append(_ cells: [String], to buffer: inout [UInt8]) {
        for (index, cell) in cells.enumerated() {
            if index > 0 { buffer.append(UInt8(ascii: ",")) }
            // A cell a spreadsheet would run as a formula gets a leading apostrophe.
            let neutralise =
                switch cell.utf8.first {
                case UInt8(ascii: "=")?, UInt8(ascii: "+")?, UInt8(ascii: "-")?, UInt8(ascii: "@")?, 0x09?, 0x0D?: true
                default: false
                }
            let quote = cell.utf8.contains(where: needsQuotes)
            if quote { buffer.append(UInt8(ascii: "\"")) }
            if neutralise { buffer.append(UInt8(ascii: "'")) }
            if quote {
                for byte in cell.utf8 {
                    if byte == UInt8(ascii: "\"") { buffer.append(byte) }
                    buffer.append(byte)
                }
                buffer.append(UInt8(ascii: "\""))
            } else {
                buffer.append(contentsOf: cell.utf8)
            }
        }
        buffer.append(0x0D)
        buffer.append(0x0A)
    }
}

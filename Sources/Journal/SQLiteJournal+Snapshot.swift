import Foundation
import GRDB

extension SQLiteJournal {
    /// Copies the journal at `path` to `destination` (a new file) without changing it, and
    /// without getting in the way of a run that uses it at the same time — for dry runs.
    ///
    /// - No `-wal` beside it (no run has it open; the last one ended cleanly): the file alone is the
    ///   whole database, and its bytes are copied with plain reads — no lock, no SQLite. If a run
    ///   opened it during the copy (a `-wal` appeared, or the file changed), the copy is discarded
    ///   and the next way is taken.
    /// - A `-wal` beside it (a run has it open, or was killed): SQLite's online backup from a
    ///   read-only connection, which reads a consistent snapshot while the run writes. Like any
    ///   reader it uses the `-shm` index; it never writes the journal or its `-wal`.
    ///
    /// The journal file keeps its bytes and its modification time either way.
    package static func snapshot(of path: String, to destination: String) throws(JournalError) {
        do {
            if !FileManager.default.fileExists(atPath: path + "-wal"), try copyQuiescent(path, to: destination) {
                return
            }
            var configuration = Configuration()
            configuration.readonly = true
            let source = try DatabaseQueue(path: path, configuration: configuration)
            let copy = try DatabaseQueue(path: destination)
            try source.backup(to: copy)
            try source.close()
            try copy.close()
        } catch {
            throw JournalError(path: path, operation: "read a snapshot of it", error)
        }
    }

    /// Copies `path` byte for byte; false when it changed or a `-wal` appeared meanwhile.
    private static func copyQuiescent(_ path: String, to destination: String) throws -> Bool {
        let before = try FileManager.default.attributesOfItem(atPath: path)
        guard let input = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? input.close() }
        guard
            FileManager.default.createFile(atPath: destination, contents: nil, attributes: [.posixPermissions: 0o600]),
            let output = FileHandle(forWritingAtPath: destination)
        else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: destination])
        }
        defer { try? output.close() }
        while let chunk = try input.read(upToCount: 1 << 20), !chunk.isEmpty { try output.write(contentsOf: chunk) }
        let after = try FileManager.default.attributesOfItem(atPath: path)
        let unchanged =
            before[.modificationDate] as? Date == after[.modificationDate] as? Date
            && before[.size] as? Int == after[.size] as? Int
        if unchanged && !FileManager.default.fileExists(atPath: path + "-wal") { return true }
        try? FileManager.default.removeItem(atPath: destination)
        return false
    }
}

import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The readers take a path, so each input is written to one private scratch file per process
/// (in /dev/shm when there is one: no disk I/O per execution).
enum FuzzFile {
    static func path(_ pathExtension: String) -> String {
        let folder = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        return "\(folder)/licprov-fuzz-\(getpid()).\(pathExtension)"
    }

    static func write(_ bytes: UnsafeBufferPointer<UInt8>, to path: String) {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        precondition(descriptor >= 0, "cannot write \(path)")
        var offset = 0
        while offset < bytes.count {
            let written = Glibc.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            precondition(written > 0)
            offset += written
        }
        close(descriptor)
    }
}

import Foundation

/// The two streams: stdout for results, stderr for progress, logs and errors.
enum Output {
    static func result(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    static func error(_ line: String) {
        FileHandle.standardError.write(Data(("licprov: " + line + "\n").utf8))
    }
}

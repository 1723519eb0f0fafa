import Foundation
import Testing

/// Counts read from a command's `--json` output, not from its prose.
extension BuiltBinaries.Outcome {
    /// The one JSON object on stdout (its last line: a command that runs another may print two).
    func json() throws -> [String: Any] {
        let line = try #require(stdout.split(whereSeparator: \.isNewline).last, "no JSON on stdout: \(stderr)")
        return try #require(
            try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not a JSON object: \(line)")
    }

    /// The integer at `path` in ``json()`` (`["states", "created"]`); nil when absent.
    func count(_ path: String...) throws -> Int? {
        var value: Any? = try json()
        for key in path { value = (value as? [String: Any])?[key] }
        return value as? Int
    }
}

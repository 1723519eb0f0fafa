/// One problem found in an input file, worded for the person who has to fix the file.
///
/// Printed as `file:line: field: message` — the form editors and `grep` understand — or, for a
/// workbook, `file:Sheet!D7: field: message`.
public struct Diagnostic: Sendable, Hashable, CustomStringConvertible {
    public enum Severity: String, Sendable { case error, warning }

    public var file: String
    public var line: Int
    /// The column or body field concerned, when there is one.
    public var field: String?
    public var message: String
    public var severity: Severity
    /// A workbook's cell (`Orders!D7`) or row (`Orders!7`), named instead of the line.
    public var cell: String?

    public init(file: String, line: Int, field: String? = nil, message: String, severity: Severity = .error) {
        self.file = file
        self.line = line
        self.field = field
        self.message = message
        self.severity = severity
    }

    public var description: String {
        let prefix = severity == .warning ? "warning: " : ""
        return "\(file):\(cell ?? String(line)): \(field.map { "\($0): " } ?? "")\(prefix)\(message)"
    }
}

/// One problem found in an input file, worded for the person who has to fix the file.
///
/// Printed as `file:line: field: message` — the form editors and `grep` understand — or, for a
/// workbook, `file:Sheet!D7: field: message`.
package struct Diagnostic: Sendable, Hashable, CustomStringConvertible {
    package enum Severity: String, Sendable { case error, warning }

    package var file: String
    package var line: Int
    /// The column or body field concerned, when there is one.
    package var field: String?
    package var message: String
    package var severity: Severity
    /// A workbook's cell (`Orders!D7`) or row (`Orders!7`), named instead of the line.
    package var cell: String?

    package init(file: String, line: Int, field: String? = nil, message: String, severity: Severity = .error) {
        self.file = file
        self.line = line
        self.field = field
        self.message = message
        self.severity = severity
    }

    package var description: String {
        let prefix = severity == .warning ? "warning: " : ""
        return "\(file):\(cell ?? String(line)): \(field.map { "\($0): " } ?? "")\(prefix)\(message)"
    }
}

import ArgumentParser
import CryptlexModels
import Ingestion

// Every option with a fixed set of values is one of these: ArgumentParser refuses any other value
// before anything runs (exit 64, naming the values), and help, man pages and completions list them.

extension InputFormat: ExpressibleByArgument {
    /// `csv`, `json`, `ndjson` or `xlsx`, in any case.
    package init?(argument: String) { self.init(rawValue: argument.lowercased()) }
}

extension ExportSource: ExpressibleByArgument {
    /// `keygen` or `cryptlex`, in any case.
    package init?(argument: String) { self.init(rawValue: argument.lowercased()) }
}

extension UnknownColumnPolicy: ExpressibleByArgument {}

extension QuantityMeaning: ExpressibleByArgument {}

extension LicenseAction: ExpressibleByArgument {
    /// As a cell is read: any case, `_` or a space for `-` (`set_expiry`, `Set Expiry`).
    package init?(argument: String) { self.init(text: argument) }
}

/// `--delimiter`: the separators a CSV file may use.
enum CSVDelimiter: String, CaseIterable, ExpressibleByArgument {
    case comma = ","
    case semicolon = ";"
    case tab = "\\t"
    case pipe = "|"

    /// `\t`, a real tab or `tab` for a tab; the others as themselves.
    init?(argument: String) {
        switch argument {
        case "\t", "tab": self = .tab
        default: self.init(rawValue: argument)
        }
    }

    var byte: UInt8 {
        switch self {
        case .comma: UInt8(ascii: ",")
        case .semicolon: UInt8(ascii: ";")
        case .tab: UInt8(ascii: "\t")
        case .pipe: UInt8(ascii: "|")
        }
    }
}

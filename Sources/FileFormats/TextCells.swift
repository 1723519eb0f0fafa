/// Cell text, shared by the readers, the date formats and the mapping.

/// Why a cell could not be read.
package struct CellProblem: Error, Equatable {
    package var message: String
    package init(_ message: String) { self.message = message }
}

extension String {
    /// The text without leading and trailing spaces and tabs (itself, allocating nothing, when it has none).
    package var trimmed: String {
        var copy = self
        let needsTrim = copy.withUTF8 { bytes in
            guard let first = bytes.first, let last = bytes.last else { return false }
            return first == 0x20 || first == 0x09 || last == 0x20 || last == 0x09
        }
        guard needsTrim else { return self }
        return String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }

    package func caseInsensitiveEquals(_ other: String) -> Bool {
        utf8.count == other.utf8.count && lowercased() == other.lowercased()
    }
}

extension String {
    /// A copy in storage of its own (a string's copies otherwise share one buffer).
    package var unshared: String {
        var copy = self
        return copy.withUTF8 { bytes in
            String(unsafeUninitializedCapacity: bytes.count) {
                _ = $0.initialize(fromContentsOf: bytes)
                return bytes.count
            }
        }
    }
}

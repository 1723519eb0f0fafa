import Foundation

/// One fuzz input for the readers: the first byte picks the options (id column, unknown columns
/// as metadata, a default product, `--time-zone`, the CSV delimiter), the rest is the file.
///
/// Oracles besides the sanitizers: the read ends with rows or an ``IngestionError`` (never
/// another error), every problem has a line ≥ 1 and the file's name, every valid row's request
/// encodes as JSON, and the summary's counts add up.
func fuzzIngest(_ data: UnsafePointer<UInt8>, _ size: Int, format: InputFormat) -> CInt {
    guard size > 0 else { return 0 }
    let flags = data[0]
    let path = FuzzFile.path(format.rawValue)
    FuzzFile.write(UnsafeBufferPointer(start: data + 1, count: size - 1), to: path)
    let delimiters: [UInt8?] = [nil, UInt8(ascii: ";"), UInt8(ascii: "\t"), UInt8(ascii: "|")]
    let options = IngestOptions(
        format: format, delimiter: delimiters[Int(flags >> 4) & 3], idColumn: flags & 1 != 0 ? "order_id" : nil,
        defaults: flags & 4 != 0 ? [("productId", "prod-1")] : [],
        unknownColumns: flags & 2 != 0 ? .metadata : .error,
        timeZone: flags & 8 != 0 ? try! LocalTimeZone(parsing: flags & 64 != 0 ? "Europe/Berlin" : "+05:30") : nil)
    let encoder = JSONEncoder()
    var rows = 0, valid = 0
    do {
        let reader = try OrderFileReader(path: path, options: options)
        let summary = try reader.read { row in
            rows += 1
            for problem in row.diagnostics {
                precondition(problem.line >= 1 && problem.description.contains(problem.file), "bad position: \(problem)")
            }
            if row.isValid {
                valid += 1
                precondition((try? encoder.encode(row.request)) != nil, "a valid row's request does not encode")
            }
        }
        precondition(summary.rows == rows && summary.validRows == valid, "counts: \(summary) vs \(rows) rows, \(valid) valid")
    } catch is IngestionError {
        // A file that cannot be read as a whole: fine, as long as it says why.
    } catch {
        preconditionFailure("an error that is not an IngestionError: \(error)")
    }
    return 0
}

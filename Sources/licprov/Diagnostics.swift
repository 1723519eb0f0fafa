import APIRequests
import ArgumentParser
import Audit
import Foundation
import Logging
import Provisioning
import Scheduling
import Synchronization

/// Logging to stderr, as text or as JSON lines.
enum Diagnostics {
    enum Format: String, CaseIterable { case text, json }

    /// swift-log may be bootstrapped once per process; a command that runs another (audit's fixes,
    /// undo) keeps the first bootstrap's handlers.
    private static let bootstrapped = Atomic<Bool>(false)

    /// Sends swift-log to stderr at `level`; returns licprov's logger.
    static func bootstrap(level: Logger.Level, format: Format = .text) -> Logger {
        if bootstrapped.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged {
            bootstrapSystem(level: level, format: format)
        }
        var logger = Logger(label: "licprov")
        logger.logLevel = level
        return logger
    }

    private static func bootstrapSystem(level: Logger.Level, format: Format) {
        LoggingSystem.bootstrap { label in
            switch format {
            case .text:
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            case .json:
                var handler = JSONLogHandler(label: label)
                handler.logLevel = level
                return handler
            }
        }
    }
}

/// One JSON object per log line on stderr: `{"time","level","label","message",...metadata}`.
struct JSONLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var object: [String: String] = [
            "time": Date().formatted(.iso8601), "level": event.level.rawValue, "label": label,
            "message": "\(event.message)",
        ]
        for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }) where object[key] == nil {
            object[key] = "\(value)"
        }
        guard
            let data = try? JSONSerialization.data(
                withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        else { return }
        StandardStream.error.write(data + Data("\n".utf8))
    }
}

/// Progress on stderr while licenses are being settled.
enum Progress: String, CaseIterable {
    /// A live bar redrawn in place (the default on a terminal).
    case bar
    /// A plain line every two seconds (the default when stderr is a file or a pipe).
    case plain
    /// One JSON object per line every two seconds, for other programs.
    case json
    case none

    static var automatic: Progress { isatty(STDERR_FILENO) == 1 ? .bar : .plain }

    /// How often the run reports.
    var interval: Duration { self == .bar ? .milliseconds(250) : .seconds(2) }

    /// The reporter for this mode; called with the counts, the licenses to settle and whether it is the last call.
    func reporter() -> (@Sendable (RunCounts, Int, Bool) -> Void)? {
        let started = ContinuousClock.now
        let mode = self
        guard mode != .none else { return nil }
        return { counts, total, final in
            let elapsed = ContinuousClock.now - started
            let seconds = elapsed.secondsValue
            let done = counts.finished + counts.notSent
            let rate = seconds > 0 ? Double(counts.finished) / seconds : 0
            let failed = counts.failed + counts.rejected + counts.conflicts + counts.unresolved
            switch mode {
            case .bar:
                let width = 30
                let fraction = total > 0 ? min(1, Double(done) / Double(total)) : 1
                let filled = Int(fraction * Double(width))
                let remaining = rate > 0 ? Int(Double(total - done) / rate) : 0
                let eta =
                    final
                    ? "done" : (rate > 0 ? String(format: "ETA %d:%02d", remaining / 60, remaining % 60) : "ETA --:--")
                let line =
                    "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "] "
                    + "\(done)/\(total) \(Int(fraction * 100))% · \(String(format: "%.1f", rate))/s · \(eta) · "
                    + "retries \(counts.retries) · 429s \(counts.tooManyRequests) · failed \(failed)"
                StandardStream.error.write(Array(("\r\u{1B}[2K" + line + (final ? "\n" : "")).utf8))
            case .plain:
                Output.error(
                    "\(done)/\(total) settled · \(counts.created) created · \(String(format: "%.1f", rate))/s · "
                        + "\(counts.retries) retries · \(counts.tooManyRequests) 429s · \(failed) failed")
            case .json:
                let object: [String: Any] = [
                    "done": done, "total": total, "created": counts.created, "recovered": counts.recovered,
                    "failed": failed,
                    "retries": counts.retries, "tooManyRequests": counts.tooManyRequests,
                    "ratePerSecond": (rate * 10).rounded() / 10,
                    "elapsedSeconds": (seconds * 10).rounded() / 10, "final": final,
                ]
                if let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) {
                    StandardStream.error.write(data + Data("\n".utf8))
                }
            case .none:
                break
            }
        }
    }
}

// Options as enums: help and shell completions list their values, and ArgumentParser refuses any
// other with the list (exit 64).
/// `--log-level`: swift-log's levels, as a type of licprov's own (a conformance of swift-log's type
/// to ArgumentParser's protocol would be neither package's, and could clash with either's later).
enum LogLevel: String, CaseIterable, ExpressibleByArgument {
    case trace, debug, info, notice, warning, error, critical

    var level: Logger.Level { Logger.Level(rawValue: rawValue) ?? .notice }
}
extension Diagnostics.Format: ExpressibleByArgument {}
extension Progress: ExpressibleByArgument {}
extension RunConfiguration.ResultsColumns: ExpressibleByArgument {}
extension UndoPlan.Mode: ExpressibleByArgument {}

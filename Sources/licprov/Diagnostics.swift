import Foundation
import Logging
import Provisioning

/// Logging to stderr, and the plain progress lines of a run.
enum Diagnostics {
    /// Sends swift-log to stderr at `level`; returns licprov's logger.
    static func bootstrap(level: Logger.Level) -> Logger {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        var logger = Logger(label: "licprov")
        logger.logLevel = level
        return logger
    }
}

/// Progress on stderr: one line every two seconds while licenses are being settled.
enum ProgressLines {
    static func printer() -> @Sendable (RunCounts, Int) -> Void {
        let started = ContinuousClock.now
        return { counts, total in
            let elapsed = ContinuousClock.now - started
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            let done = counts.finished
            let rate = seconds > 0 ? Double(counts.created + counts.recovered) / seconds : 0
            Output.error("\(done)/\(total) settled · \(counts.created) created · \(String(format: "%.1f", rate))/s · "
                + "\(counts.retries) retries · \(counts.tooManyRequests) 429s · \(counts.failed + counts.rejected + counts.conflicts) failed")
        }
    }
}

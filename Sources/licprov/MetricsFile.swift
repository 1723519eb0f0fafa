import Foundation
import Provisioning

/// `--metrics-file PATH`: the run's figures in the Prometheus text format, for node_exporter's
/// textfile collector, written at the end of every run — finished, interrupted or failed — to a
/// temporary file beside PATH and renamed over it (the collector never reads half a file), mode
/// 0644 whatever the umask (the collector runs as another user; the file holds no secret).
///
/// Written by hand: a dozen gauges, no registry or HTTP endpoint needed (swift-prometheus would
/// bring both for a format this small). `licprov_last_success_timestamp_seconds` survives failed
/// runs: it is carried over from the file the last successful run wrote.
enum MetricsFile {
    static func write(
        to path: String, report: ProvisioningRun.Report?, status: ExitStatus, input: String, now: Date = Date()
    ) {
        let label = #"file="\#(escape(input))""#
        var lastSuccess = previousSuccess(at: path, label: label)
        if status == .success { lastSuccess = now.timeIntervalSince1970 }
        var lines: [String] = []
        func gauge(_ name: String, _ help: String, _ samples: [(labels: String, value: Double)]) {
            lines.append("# HELP \(name) \(help)")
            lines.append("# TYPE \(name) gauge")
            for sample in samples { lines.append("\(name){\(sample.labels)} \(format(sample.value))") }
        }
        if let report {
            let counts = report.counts
            let statuses: [(String, Int)] = [
                ("created", counts.created), ("changed", counts.changed), ("unchanged", counts.unchanged),
                ("recovered", counts.recovered),
                ("already_done", counts.alreadyDone),
                ("failed", counts.failed), ("rejected", counts.rejected), ("conflict", counts.conflicts),
                ("unresolved", counts.unresolved),
                ("not_sent", counts.notSent), ("skipped", counts.skipped), ("not_in_file", counts.notInFile),
            ]
            gauge(
                "licprov_run_licenses", "Licenses and changes of the last run's file, by what became of them.",
                statuses.map { (#"\#(label),status="\#($0.0)""#, Double($0.1)) })
            gauge(
                "licprov_run_requests", "Requests the last run sent to create or change licenses (attempts).",
                [(label, Double(counts.requests))])
            gauge(
                "licprov_run_lookups", "Lookup and read requests the last run sent.", [(label, Double(counts.lookups))])
            gauge(
                "licprov_run_user_requests", "User lookups and creates the last run sent.",
                [(label, Double(counts.userLookups + counts.userRequests))])
            gauge(
                "licprov_run_too_many_requests", "429 answers in the last run.",
                [(label, Double(counts.tooManyRequests))])
            gauge("licprov_run_retries", "Attempts after the first in the last run.", [(label, Double(counts.retries))])
            gauge("licprov_run_duration_seconds", "How long the last run took.", [(label, report.elapsed.secondsValue)])
        }
        gauge(
            "licprov_run_exit_code", "The last run's exit code (0: done; see licprov --help).",
            [(label, Double(status.rawValue))])
        gauge(
            "licprov_last_run_timestamp_seconds", "When the last run ended (Unix time).",
            [(label, now.timeIntervalSince1970)])
        if let lastSuccess {
            gauge(
                "licprov_last_success_timestamp_seconds", "When the last run that exited 0 ended (Unix time).",
                [(label, lastSuccess)])
        }
        let text = lines.joined(separator: "\n") + "\n"
        let temporary = path + ".tmp.\(getpid())"
        do {
            try Data(text.utf8).write(to: URL(fileURLWithPath: temporary))
            // Readable by the collector's own user (node_exporter does not run as this one): the
            // file holds counts and a file name, no secret. Every other file licprov writes stays 0600.
            guard chmod(temporary, 0o644) == 0, rename(temporary, path) == 0 else {
                throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
            }
        } catch {
            unlink(temporary)
            Output.error("warning: cannot write the metrics file \(path): \(error.localizedDescription)")
        }
    }

    /// The last success time an earlier run wrote for the same file.
    static func previousSuccess(at path: String, label: String) -> Double? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        let prefix = "licprov_last_success_timestamp_seconds{\(label)} "
        return text.split(separator: "\n").first { $0.hasPrefix(prefix) }.flatMap { Double($0.dropFirst(prefix.count)) }
    }

    private static func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }

    /// A label value: backslash, double quote and newline escaped, as the format requires.
    private static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }
}

import Foundation
import Provisioning
import Scheduling

/// The end of a run on stdout: what happened, where the results are, how to resume — as text,
/// or as one JSON object with `--json`.
enum RunSummary {
    static func print(_ report: ProvisioningRun.Report, command: String, maxProblems: Int, json: Bool) -> ExitStatus {
        if report.ending == .refused {
            for problem in report.problems.prefix(maxProblems) { Output.error(problem.description) }
            if report.problems.count > maxProblems {
                Output.error("(and \(report.problems.count - maxProblems) more; `licprov validate` lists them all)")
            }
            Output.error(
                "the file has \(report.summary.errors) \(report.summary.errors == 1 ? "error" : "errors"); nothing was sent. "
                    + "Fix the rows, or pass --skip-invalid to send the valid ones")
            if json { emit(report, status: .invalidInput, outcome: report.outcome, command: command) }
            return .invalidInput
        }
        if report.ending == .dryRun {
            printDryRun(report, json: json)
            return .success
        }
        let outcome = report.outcome
        let (status, advice): (ExitStatus, String?) =
            switch report.ending {
            case .stopped(.interrupted):
                (.interrupted, "interrupted: run the same command again to resume: \(command)")
            case .stopped(.accessDenied(let reason)):
                (
                    .accessDenied,
                    "the API refused the token: \(reason). Check CRYPTLEX_ACCESS_TOKEN (or --token-file) and its scopes "
                        + "(license:read, license:write; user:read, user:write for customers); then run the same command again: \(command)"
                )
            case .stopped(.firstItemRejected(let reason)):
                (
                    .invalidInput,
                    "the first license, sent alone, was rejected (\(reason)); nothing else was sent. "
                        + "If the cause is shared by every row (a product or template that does not exist), fix it; then run: \(command)"
                )
            case .stopped(.rateLimited(let reason)):
                (
                    .rateLimited,
                    "stopped: \(reason) (budget: --max-429s, --stall-timeout). Another client may share the IP's "
                        + "50 requests per 5 s, or a proxy refuses everything; the journal is flushed and the results written. Run the same command later: \(command)"
                )
            case .stopped(.unreachable(let reason)):
                (
                    .apiUnreachable,
                    "stopped: \(reason) (--unreachable-timeout). Nothing is lost: the journal is flushed, and what was "
                        + "in flight is looked up before anything is sent again. Check the network, the proxy (HTTPS_PROXY) and the API's status; then run the same command again: \(command)"
                )
            case .stopped(.tooManyFailures(let count)):
                (
                    .rowsFailed,
                    "stopped after \(count) failed licenses (--max-failures); see the results file, fix the cause, and run: \(command)"
                )
            case .finished, .refused, .dryRun:
                report.hasUnsettledRows
                    ? (
                        .rowsFailed,
                        "some licenses were not created: see the status column of the results; a rerun retries the failed ones: \(command)"
                    )
                    : (.success, nil)
            }
        if json {
            emit(report, status: status, outcome: outcome, command: command)
            if let advice, status != .success { Output.error(advice) }
            return status
        }
        let counts = report.counts
        let changes = report.summary.changes > 0 || counts.changed > 0
        Output.result(
            "licenses \(report.licenses)\(changes ? " and \(report.summary.changes) changes" : ""): created \(counts.created), "
                + (changes ? "changed \(counts.changed), " : "")
                + (counts.unchanged > 0 ? "unchanged \(counts.unchanged) (nothing to send), " : "")
                + "recovered \(counts.recovered), already done \(counts.alreadyDone), "
                + "failed \(counts.failed), rejected \(counts.rejected), conflicts \(counts.conflicts), unresolved \(counts.unresolved), not sent \(counts.notSent)"
                + (counts.skipped > 0 ? "; skipped \(counts.skipped) rows (see the results)" : "")
                + (counts.notInFile > 0
                    ? "; \(counts.notInFile) licenses of rows no longer in the file looked up and not found (nothing sent)"
                    : "")
        )
        Output.result(
            "requests \(counts.requests), lookups \(counts.lookups), 429s \(counts.tooManyRequests), retries \(counts.retries), "
                + "elapsed \(format(report.elapsed.secondsValue)) s, \(format(rate(report, report.elapsed))) licenses/s "
                + "(sending: \(format(report.settling.secondsValue)) s, \(format(rate(report, report.settling)))/s; \(report.commits) group commits)"
        )
        for (reason, count) in report.failureReasons.prefix(5) {
            Output.result("  \(count) × \(reason)")
        }
        if report.failureReasons.count > 5 {
            Output.result("  (\(report.failureReasons.count - 5) more reasons; see the results file)")
        }
        if counts.directoryLookups + counts.directoryRequests > 0 {
            Output.result(
                "organizations and resellers: \(counts.directoryFound) found, \(counts.directoryCreated) created "
                    + "(\(counts.directoryLookups) lookups, \(counts.directoryRequests) creates sent)")
        }
        if counts.userLookups + counts.userRequests > 0 {
            Output.result(
                "customers: \(counts.usersFound) found, \(counts.usersCreated) created (\(counts.userLookups) lookups, \(counts.userRequests) creates sent)"
            )
        }
        if let results = report.resultsPath { Output.result("results: \(results)") }
        Output.result("journal: \(report.journalPath)")
        if let advice {
            if [.accessDenied, .invalidInput, .rateLimited, .apiUnreachable].contains(status) {
                Output.error(advice)
            } else {
                Output.result(advice)
            }
        }
        return status
    }

    private static func printDryRun(_ report: ProvisioningRun.Report, json: Bool) {
        let counts = report.counts
        if json {
            let object: [String: Any] = [
                "outcome": report.outcome, "licenses": report.licenses, "wouldSend": report.plannedSends,
                "wouldLookUp": report.plannedLookups,
                "alreadyDone": counts.alreadyDone, "editedAfterCreated": counts.conflicts,
                "invalidRows": counts.rejected,
                "sampleRequests": report.sampleBodies,
            ]
            if let data = try? JSONSerialization.data(
                withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
            {
                Output.result(String(decoding: data, as: UTF8.self))
            }
            return
        }
        Output.result("dry run: nothing was sent and no file was changed")
        let changes = report.summary.changes > 0 ? " and \(report.summary.changes) changes" : ""
        Output.result(
            "licenses \(report.licenses)\(changes): would send \(report.plannedSends), look up \(report.plannedLookups) first (left in flight), "
                + "skip \(counts.alreadyDone) already done; \(counts.conflicts) edited after creation (conflicts), \(counts.rejected) invalid rows"
        )
        if !report.sampleBodies.isEmpty {
            Output.result(
                "the first requests (the marker value is assigned for real when the run registers them; a change's license is found when it runs):"
            )
            for request in report.sampleBodies { Output.result("  \(request)") }
        }
    }

    private static func emit(_ report: ProvisioningRun.Report, status: ExitStatus, outcome: String, command: String) {
        let counts = report.counts
        let object: [String: Any] = [
            "outcome": outcome, "exitCode": Int(status.rawValue), "licenses": report.licenses,
            "created": counts.created, "changed": counts.changed, "changes": report.summary.changes,
            "unchanged": counts.unchanged,
            "recovered": counts.recovered, "alreadyDone": counts.alreadyDone, "failed": counts.failed,
            "rejected": counts.rejected, "conflicts": counts.conflicts, "unresolved": counts.unresolved,
            "notSent": counts.notSent, "skipped": counts.skipped, "notInFile": counts.notInFile,
            "requests": counts.requests, "lookups": counts.lookups, "tooManyRequests": counts.tooManyRequests,
            "retries": counts.retries,
            "usersFound": counts.usersFound, "usersCreated": counts.usersCreated,
            "elapsedSeconds": (report.elapsed.secondsValue * 100).rounded() / 100,
            "licensesPerSecond": (rate(report, report.elapsed) * 100).rounded() / 100,
            "failureReasons": report.failureReasons.map { ["reason": $0.reason, "count": $0.count] as [String: Any] },
            "results": report.resultsPath ?? NSNull(), "journal": report.journalPath, "command": command,
        ]
        if let data = try? JSONSerialization.data(
            withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        {
            Output.result(String(decoding: data, as: UTF8.self))
        }
    }

    private static func rate(_ report: ProvisioningRun.Report, _ duration: Duration) -> Double {
        let time = duration.secondsValue
        return time > 0 ? Double(report.counts.created + report.counts.recovered) / time : 0
    }

    private static func format(_ value: Double) -> String { String(format: "%.1f", value) }
}

import Foundation
import Provisioning

/// The end of a run on stdout: what happened, where the results are, how to resume.
enum RunSummary {
    static func print(_ report: ProvisioningRun.Report, command: String, maxProblems: Int) -> ExitStatus {
        if report.ending == .refused {
            for problem in report.problems.prefix(maxProblems) { Output.error(problem.description) }
            if report.problems.count > maxProblems { Output.error("(and \(report.problems.count - maxProblems) more; `licprov validate` lists them all)") }
            Output.error("the file has \(report.summary.errors) \(report.summary.errors == 1 ? "error" : "errors"); nothing was sent. "
                + "Fix the rows, or pass --skip-invalid to send the valid ones")
            return .invalidInput
        }
        let counts = report.counts
        let elapsed = report.elapsed
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let rate = seconds > 0 ? Double(counts.created + counts.recovered) / seconds : 0
        let settling = Double(report.settling.components.seconds) + Double(report.settling.components.attoseconds) / 1e18
        let settlingRate = settling > 0 ? Double(counts.created + counts.recovered) / settling : 0
        Output.result("licenses \(report.licenses): created \(counts.created), recovered \(counts.recovered), already done \(counts.alreadyDone), "
            + "failed \(counts.failed), rejected \(counts.rejected), conflicts \(counts.conflicts), unresolved \(counts.unresolved), not sent \(counts.notSent)")
        Output.result("requests \(counts.requests), lookups \(counts.lookups), 429s \(counts.tooManyRequests), retries \(counts.retries), "
            + "elapsed \(String(format: "%.1f", seconds)) s, \(String(format: "%.1f", rate)) licenses/s "
            + "(sending: \(String(format: "%.1f", settling)) s, \(String(format: "%.1f", settlingRate))/s; \(report.commits) group commits)")
        if counts.userLookups + counts.userRequests > 0 {
            Output.result("customers: \(counts.usersFound) found, \(counts.usersCreated) created (\(counts.userLookups) lookups, \(counts.userRequests) creates sent)")
        }
        if let results = report.resultsPath { Output.result("results: \(results)") }
        Output.result("journal: \(report.journalPath)")
        switch report.ending {
        case .stopped(.interrupted):
            Output.result("interrupted: run the same command again to resume: \(command)")
            return .interrupted
        case .stopped(.accessDenied(let reason)):
            Output.error("the API refused the token: \(reason). Check CRYPTLEX_ACCESS_TOKEN (or --token-file) and its scopes "
                + "(license:read, license:write); then run the same command again")
            return .accessDenied
        case .stopped(.tooManyFailures(let count)):
            Output.error("stopped after \(count) failed licenses (--max-failures); see the results file")
            return .rowsFailed
        case .finished, .refused:
            if report.hasUnsettledRows {
                Output.result("some licenses were not created: see the status column of the results; a rerun retries the failed ones: \(command)")
                return .rowsFailed
            }
            return .success
        }
    }
}

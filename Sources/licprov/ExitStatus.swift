import ArgumentParser
import Audit
import FileFormats
import Foundation
import Ingestion
import Journal
import Provisioning
import Results
import Sync

/// Every exit code licprov uses, decided here and nowhere else (sysexits.h numbers where one fits).
///
/// | Code | Meaning |
/// |---|---|
/// | 0 | everything asked for was done (or the file is valid) |
/// | 1 | the run finished, but some rows failed or conflicted |
/// | 2 | `plan --detailed-exitcode`: there are changes to make |
/// | 64 | usage: a bad flag or argument |
/// | 65 | the input has invalid rows or columns (nothing was sent) |
/// | 66 | the input file cannot be opened or read |
/// | 69 | the API could not be reached (before the run, or for `--unreachable-timeout` during it; rerun to resume) |
/// | 70 | an internal error licprov has no name for: a bug, to report with the command and the message |
/// | 74 | journal or file-system failure |
/// | 75 | interrupted; run the same command again to resume |
/// | 76 | stopped: the API kept answering 429 past the budget (`--max-429s`, `--stall-timeout`); rerun later |
/// | 77 | the token or its permissions were rejected; the run stopped |
/// | 78 | refused by a safety rail: `--prune` over `--max-prune`; nothing was sent |
/// | 79 | `apply PLAN.json`: the saved plan is stale (the account moved since); nothing was sent |
enum ExitStatus: Int32, CaseIterable {
    case success = 0
    case rowsFailed = 1
    case changesPlanned = 2
    case usage = 64
    case invalidInput = 65
    case cannotReadInput = 66
    case apiUnreachable = 69
    case internalError = 70
    case journalFailure = 74
    case interrupted = 75
    case rateLimited = 76
    case accessDenied = 77
    case refused = 78
    case stalePlan = 79

    var exitCode: ExitCode { ExitCode(rawValue) }

    /// The table above, for `--help`.
    static let helpText = """
        Exit codes: 0 done · 1 some rows failed or conflicted · 64 usage · 65 invalid input (nothing sent) · \
        66 input unreadable · 69 API unreachable · 70 internal error (a bug: report it) · 74 journal or file-system failure · 75 interrupted, rerun to resume · \
        76 stopped after too many 429s, rerun later · \
        77 token or permission rejected · 78 refused by a safety rail (--max-prune), nothing sent · 79 saved plan stale, nothing sent · 2 plan --detailed-exitcode: changes to make
        """
}

extension ExitStatus {
    /// The one place where a thrown error becomes an exit code. An error with no place here is a
    /// bug (70), said as one — never passed off as a journal failure.
    static func `for`(_ error: any Error) -> ExitStatus {
        switch error {
        case let error as IngestionError:
            switch error {
            case .cannotOpen, .readFailed, .unreadable: return .cannotReadInput
            case .badOption, .unknownFormat: return .usage
            default: return .invalidInput
            }
        case is JournalError, is ResultsFile.WriteError, is JournalReport.JournalMissing, is JournalLock.Held,
            is CocoaError:
            return .journalFailure
        case let error as SyncPlanner.Unreadable: return error.tokenRefused ? .accessDenied : .apiUnreachable
        case is APIUnreachable, is JournalAudit.Unavailable: return .apiUnreachable
        case is SyncPlanner.InvalidFile: return .invalidInput
        case is SyncPlanner.PruneRefused: return .refused
        case is SavedPlan.Stale: return .stalePlan
        case is CredentialError, is MarkerKeyConflict: return .usage
        default:
            Output.error(
                "licprov: an internal error (\(type(of: error))): please report it with the command line and this message"
            )
            return .internalError
        }
    }
}

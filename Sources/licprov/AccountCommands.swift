import ArgumentParser
import Audit
import CryptlexAPI
import CryptlexModels
import Foundation
import Ingestion
import Journal
import Logging
import Provisioning
import Results
import Scheduling

/// Where the account is and how to reach it: `run`, `audit` and `undo` alike.
struct ConnectionOptions: ParsableArguments {
    @Option(help: "A file holding the access token (instead of CRYPTLEX_ACCESS_TOKEN).")
    var tokenFile: String?

    @Option(help: "The API's base URL (default: CRYPTLEX_API_URL, else https://api.cryptlex.com).")
    var apiUrl: String?

    @Flag(help: "Allow http:// for a host that is not loopback (the token would travel in clear).")
    var allowInsecureHttp = false

    @Option(
        help:
            "An http:// proxy to tunnel through (default: HTTPS_PROXY; NO_PROXY and loopback hosts go direct). Credentials only in HTTPS_PROXY."
    )
    var proxy: String?

    @Option(
        help:
            "A PEM file of the certificate authorities to trust instead of the system's (default: SSL_CERT_FILE), e.g. a corporate root."
    )
    var caFile: String?

    /// The client for the account, along its route (proxy, CAs), with a pool of `connections`.
    /// A missing token or a bad URL, proxy or CA file is said on stderr and is a usage error
    /// (exit 64). A dry run sends nothing, so it needs no token (`needsToken: false`).
    func client(
        connections: Int, requestTimeout: Duration = .seconds(30), logger: Logger = Logger(label: "licprov.api"),
        needsToken: Bool = true
    ) throws -> CryptlexClient {
        do {
            let token = needsToken ? try Credentials.token(file: tokenFile) : ""
            let url = try Credentials.baseURL(flag: apiUrl, allowInsecureHTTP: allowInsecureHttp)
            let route = try NetworkRoute.resolve(for: url, proxyFlag: proxy, caFile: caFile)
            if let proxy = route.proxy { logger.info("connecting through the proxy \(proxy)") }
            if let authorities = route.authorities {
                logger.info("trusting \(authorities.count) certificate authorities from \(authorities.source)")
            }
            return CryptlexClient(
                baseURL: url, token: token, transport: route.transport(connections: connections),
                requestTimeout: requestTimeout, logger: logger)
        } catch {
            Output.error(error.localizedDescription)
            throw ExitStatus.usage.exitCode
        }
    }
}

/// The account and the pace of reading and writing it: every command that talks to the API.
struct AccountOptions: ParsableArguments {
    @OptionGroup var connection: ConnectionOptions

    @Option(
        help:
            "Requests per second, all workers together (default 9.6: under Cryptlex's 50 per 5 s with room for jitter); 0: no client-side limit. The server's windows are followed as answers show them (--window-limit)."
    )
    var rate: Double = RunConfiguration.cryptlexRate

    func validate() throws {
        try FlagRange.check("rate", rate, FlagRange.rate, orZero: true)
    }
}

/// Runs rows licprov derived from a journal or a plan (undo, apply, fixing duplicates) as `run`
/// runs a file's, in this process, typed: the rows go to the engine as they are, with a journal of
/// their own, so the derived changes are journaled, exactly once and resumable like any run, with
/// the operator's ``SendingOptions``. Nothing is written to be read back.
enum DerivedRun {
    /// Where a derived run keeps its files: `BASE.sqlite` (its journal) and `BASE.results.csv`
    /// (unless `--results` says otherwise).
    struct Files {
        var base: String
        var journal: String { base + ".sqlite" }
        var results: String { base + ".results.csv" }

        /// The files of the derived run whose journal is `journal` (`X.sqlite` → base `X`).
        init(journal: String) {
            base = journal.hasSuffix(".sqlite") ? String(journal.dropLast(".sqlite".count)) : journal
        }
    }

    /// Runs `rows` (identified by their ids, `idColumn` naming them); the run's exit status.
    static func run(
        _ rows: [OrderRow], files: Files, idColumn: String, markerKey: String? = RunConfiguration.defaultMarkerKey,
        account: AccountOptions, sending: SendingOptions, metricsLabel: String, dryRun: Bool = false
    ) async throws -> ExitStatus {
        var ingest = IngestOptions(idColumn: idColumn)
        ingest.markerKey = markerKey
        ingest.keepIDAsMetadata = false
        var configuration = RunConfiguration(
            inputPath: files.base, ingest: ingest, journalPath: files.journal, resultsPath: files.results)
        configuration.derivedRows = DerivedRows(rows)
        configuration.markerKey = markerKey
        configuration.keepIDAsMetadata = false
        configuration.dryRun = dryRun
        configuration.commandLine = RunExecution.commandLine
        return try await RunExecution.perform(
            configuration, account: account, sending: sending, metricsLabel: metricsLabel)
    }
}

/// `licprov audit FILE`: the account against the journal, read-only.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract:
            "Compare the account with the journal: duplicate, missing, changed and unknown licenses. Read-only unless --fix-duplicates.",
        discussion: "Exit 0 when everything is as the journal says, 1 when anything else was found."
    )

    @OptionGroup var location: JournalLocation
    @OptionGroup var account: AccountOptions

    @Option(name: [.short, .customLong("output")], help: "Write the findings CSV here (default: standard output).")
    var output: String?

    @OptionGroup var marker: MarkerKeyOption

    @Flag(
        help:
            "Delete the extra licenses of each duplicate, keeping the one the journal recorded (journaled, in JOURNAL.fix.sqlite; needs -o)."
    )
    var fixDuplicates = false

    @OptionGroup(title: "How --fix-duplicates sends") var sending: SendingOptions

    func validate() throws {
        if fixDuplicates && output == nil {
            throw ValidationError(
                "--fix-duplicates needs -o PATH for the findings: the deletions' own run prints its summary on standard output"
            )
        }
    }

    func run() async throws {
        _ = Diagnostics.bootstrap(level: .warning, format: .text)
        let path = try location.path()
        let markerKey = try marker.resolve(journalPath: path)
        let client = try account.connection.client(connections: 4)
        var configuration = RunConfiguration(inputPath: path, ingest: .init(), journalPath: path)
        configuration.rate = account.rate == 0 ? nil : account.rate
        configuration.markerKey = markerKey
        let report: JournalAudit.Report
        do {
            report = try await JournalAudit.run(journalPath: path, client: client, configuration: configuration)
        } catch {
            try? await client.shutdown()
            Output.error(error.localizedDescription)
            throw ExitStatus.for(error).exitCode
        }
        try? await client.shutdown()
        let csv = AuditCSV.encode(report.findings)
        if let output {
            do { try Data(csv).write(to: URL(fileURLWithPath: output), options: .atomic) } catch {
                Output.error("cannot write \(output): \(error.localizedDescription)")
                throw ExitStatus.journalFailure.exitCode
            }
        } else if !sending.json {
            Output.resultBytes(csv)
        }
        let counts = report.counts
        // --json: the counts as one object (the findings then only in -o; the fix's own run summary follows it).
        if sending.json {
            var object: [String: Any] = Dictionary(
                uniqueKeysWithValues: JournalAudit.Kind.allCases.map { ($0.rawValue, counts[$0, default: 0]) })
            object["requests"] = report.requests
            object["notes"] = report.notes
            object["findings"] = output ?? NSNull()
            Output.resultJSON(object)
        }
        Output.error(
            "audit: "
                + JournalAudit.Kind.allCases.map { "\($0.rawValue) \(counts[$0, default: 0])" }.joined(separator: ", ")
                + "; \(report.requests) requests" + (output.map { "; findings: \($0)" } ?? ""))
        for note in report.notes { Output.error("audit: " + note) }
        if fixDuplicates, !report.extraLicenses.isEmpty {
            Output.error(
                "deleting \(report.extraLicenses.count) extra licenses of duplicates (the journal's own are kept)")
            let files = DerivedRun.Files(journal: path + ".fix.sqlite")
            let status = try await DerivedRun.run(
                report.duplicateDeletions, files: files, idColumn: JournalAudit.Report.fixIDColumn,
                markerKey: markerKey,
                account: account, sending: sending, metricsLabel: path)
            // Fixed: the audit's own status (it found duplicates) stands; a fix that did not finish says why.
            if status != .success { throw status.exitCode }
        }
        // 1: something other than ok was found (before any fix: run audit again to see the account now).
        throw (report.isClean ? ExitStatus.success : ExitStatus.rowsFailed).exitCode
    }
}

/// `licprov undo FILE`: reverses what the journal (or one of its runs) did.
struct UndoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "undo",
        abstract:
            "Reverse what a journal did: delete (or revoke) the licenses it created, revert its changes from their before-state.",
        discussion: """
            The undo is itself a journaled run (JOURNAL.undo.sqlite, results JOURNAL.undo.results.csv): \
            exactly once under faults and kills, resumable by running the same command again. \
            Deletions it made cannot be undone and are listed. Users, organizations and resellers it \
            created stay (they may hold other licenses, and people may have signed in); the summary says how many. With --dry-run it only shows what it would do; \
            on a terminal it asks for the journal's file name; without one it refuses unless --yes.
            """
    )

    @OptionGroup var location: JournalLocation
    @OptionGroup var account: AccountOptions

    @Option(help: "Only what this run sent (its number in `licprov status`).")
    var run: Int64?

    @Option(help: "What happens to the licenses the journal created: delete or revoke.")
    var mode: UndoPlan.Mode = .delete

    @Flag(help: "Show what would be done; send nothing.")
    var dryRun = false

    @Flag(help: "Do it without asking (for scripts).")
    var yes = false

    @OptionGroup(title: "How the undo sends") var sending: SendingOptions

    func validate() throws {
        if let run, run < 1 { throw ValidationError("--run must be a run number (1 or more), not \(run)") }
    }

    func run() async throws {
        let path = try location.path()
        let plan: UndoPlan
        do {
            plan = try UndoPlan.plan(journalPath: path, run: run, mode: mode)
        } catch {
            Output.error(error.localizedDescription)
            throw ExitStatus.for(error).exitCode
        }
        let verb = mode.rawValue
        Output.result(
            "undo of \(path)\(run.map { " (run \($0))" } ?? ""): \(verb) \(plan.licensesToRemove) licenses it created, "
                + "revert \(plan.changesToRevert) changed licenses; \(plan.irreversible.count) deletions cannot be undone"
        )
        if run == nil, let created = try? JournalReport.createdByUs(journalPath: path) {
            if created.users + created.organizations + created.resellers > 0 {
                Output.result(
                    "  left in place: \(created.users) users, \(created.organizations) organizations and \(created.resellers) resellers "
                        + "it created (they may hold other licenses; remove them in Cryptlex if they should go)")
            }
        }
        for line in plan.irreversible { Output.result("  not reversible: \(line)") }
        for line in plan.notRestorable { Output.result("  not restorable: \(line)") }
        let files = DerivedRun.Files(journal: path + ".undo.sqlite")
        if dryRun {
            throw try await DerivedRun.run(
                plan.rows, files: files, idColumn: UndoPlan.idColumn, account: account, sending: sending,
                metricsLabel: path, dryRun: true
            ).exitCode
        }
        if !yes {
            guard isatty(0) == 1 && isatty(2) == 1 else {
                Output.error(
                    "undo changes the account and cannot be taken back for deletions: pass --yes to confirm (or --dry-run to see what it would do)"
                )
                throw ExitStatus.usage.exitCode
            }
            let name = URL(fileURLWithPath: path).lastPathComponent
            Output.error("type the journal's name (\(name)) to go on: ", newline: false)
            guard readLine()?.trimmingCharacters(in: .whitespaces) == name else {
                Output.error("not confirmed; nothing was sent")
                throw ExitStatus.usage.exitCode
            }
        }
        guard !plan.rows.isEmpty else {
            Output.result("nothing to undo")
            return
        }
        throw try await DerivedRun.run(
            plan.rows, files: files, idColumn: UndoPlan.idColumn, account: account, sending: sending,
            metricsLabel: path
        ).exitCode
    }
}

/// The findings CSV (formula-like cells neutralised, as in the results file).
enum AuditCSV {
    static func encode(_ findings: [JournalAudit.Finding]) -> [UInt8] {
        ResultsFile.encodeRows([JournalAudit.Finding.header] + findings.map(\.cells))
    }
}

/// `licprov report FILE`: one self-contained HTML page from the journal.
struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract:
            "Write one self-contained HTML page from the journal: settled over time, requests per second against the limit, 429s and retries, failures by reason, per run. Sends nothing."
    )

    @OptionGroup var location: JournalLocation

    @Option(name: [.short, .customLong("output")], help: "The HTML file (default: JOURNAL.report.html).")
    var output: String?

    func run() async throws {
        let path = try location.path()
        let target = output ?? path + ".report.html"
        do {
            let html = try HTMLReport.render(journalPath: path)
            try Data(html.utf8).write(to: URL(fileURLWithPath: target), options: .atomic)
        } catch {
            Output.error(error.localizedDescription)
            throw ExitStatus.for(error).exitCode
        }
        Output.result("report: \(target)")
    }
}

import ArgumentParser
import CryptlexAPI
import Foundation
import Ingestion
import Provisioning
import Sync

/// The options `plan` and `apply` share: the file (with every input option of `run`), the
/// account, the apply's journal and pruning.
struct SyncOptions: ParsableArguments {
    @OptionGroup var input: InputOptions
    @OptionGroup var account: AccountOptions

    @Option(
        help:
            "The apply's journal (default: FILE.apply.sqlite; needed when FILE is - for standard input): which creates an earlier apply sent."
    )
    var journal: String?

    @Option(
        help: "What happens to managed licenses no row names: suspend, revoke or delete (default: left alone, counted)."
    )
    var prune: SyncPlanner.PruneMode?

    @Option(
        help:
            "--prune refuses to touch more than this many licenses (default: 10 % of the managed licenses, at least 1, at most 100)."
    )
    var maxPrune: Int?

    var journalPath: String { journal ?? input.file + ".apply.sqlite" }

    func validate() throws {
        if let maxPrune, maxPrune < 0 { throw ValidationError("--max-prune must be 0 or more, not \(maxPrune)") }
        if input.file == "-" && journal == nil {
            throw ValidationError(
                "reading standard input, plan and apply need --journal: the apply's journal (and its results) are otherwise written beside the file"
            )
        }
    }

    /// The marker key of the apply's journal (the flag's, which must agree with it).
    func markerKey() throws -> String? {
        try input.marker.resolve(journalPath: journalPath, noMarker: input.noMarker)
    }

    /// Plans, saying on stderr why it could not and exiting with that status.
    func plan() async throws -> SyncPlan {
        var ingest = try input.ingestOptions()
        ingest.markerKey = try markerKey()
        var configuration = RunConfiguration(inputPath: input.file, ingest: ingest, journalPath: journalPath)
        configuration.rate = account.rate == 0 ? nil : account.rate
        configuration.markerKey = ingest.markerKey
        let options = SyncPlanner.Options(prune: prune, maxPrune: maxPrune, journalPath: journalPath)
        return try await withClient { client in
            try await SyncPlanner.plan(configuration: configuration, options: options, client: client)
        }
    }

    /// `body` with a client for the account, shut down after it either way; an error is said on
    /// stderr (an invalid file with its problems) and ends the command with its exit status.
    func withClient<T: Sendable>(_ body: (CryptlexClient) async throws -> T) async throws -> T {
        let client = try account.connection.client(connections: 2)
        let outcome: Result<T, any Error>
        do { outcome = .success(try await body(client)) } catch { outcome = .failure(error) }
        try? await client.shutdown()
        switch outcome {
        case .success(let value):
            return value
        case .failure(let invalid as SyncPlanner.InvalidFile):
            for problem in invalid.problems.prefix(100) { Output.error(problem.description) }
            Output.error(
                "\(input.file): \(invalid.problems.count) problems; nothing was planned (licprov validate lists them all)"
            )
            throw ExitStatus.for(invalid).exitCode
        case .failure(let error):
            Output.error(error.localizedDescription)
            throw ExitStatus.for(error).exitCode
        }
    }
}

extension SyncPlanner.PruneMode: ExpressibleByArgument {}

/// `licprov plan FILE`: what apply would change to make the account equal the file. Reads only.
struct PlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract:
            "Compare a file that is the desired state with the account's managed licenses; print what apply would change. Sends no write.",
        discussion: """
            Managed licenses are those carrying the --id-column's metadata entry (licprov writes it on every \
            license it creates) on the file's products; no other license is read or touched. A row with no \
            license (or fewer than its quantity) is a create; a license whose fields differ from the row's \
            columns is an update (revoked, suspended and expiresAt: revoke/unrevoke, suspend/unsuspend, \
            set-expiry; a customer email that is not the license's user's: an update that links the license to \
            that customer, found or created); several licenses for a row that wants one are a conflict, and \
            nothing is planned for it. Managed licenses no row names are pruned only with --prune, up to --max-prune.

            Exit codes: 0 planned (with --detailed-exitcode: nothing to do) · 2 changes to make (with \
            --detailed-exitcode) · 65 invalid file · 78 --prune over --max-prune · and as run for the rest.
            """
    )

    @OptionGroup var sync: SyncOptions

    @Flag(help: "Print the plan as JSON instead of the readable diff.")
    var json = false

    @Option(name: [.short, .customLong("output")], help: "Also save the plan as JSON here (for review).")
    var output: String?

    @Flag(help: "Exit 2 when there are changes to make, 0 when there are none (as terraform plan).")
    var detailedExitcode = false

    func run() async throws {
        let plan = try await sync.plan()
        if json { Output.resultBytes(plan.json + [0x0A]) } else { Output.resultBytes(Array(plan.text.utf8)) }
        if let output {
            do { try Data(plan.json).write(to: URL(fileURLWithPath: output), options: .atomic) } catch {
                Output.error("cannot write \(output): \(error.localizedDescription)")
                throw ExitStatus.journalFailure.exitCode
            }
        }
        if detailedExitcode && !plan.isEmpty { throw ExitStatus.changesPlanned.exitCode }
    }
}

/// `licprov apply FILE`: plans, then makes the account equal the file as a journaled run.
struct ApplyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract:
            "Make the account's managed licenses equal the file: plan, then apply the plan as a journaled, resumable run.",
        discussion: """
            The plan is printed first; on a terminal apply asks before sending, otherwise it needs --yes. \
            Given a plan saved by `licprov plan -o PLAN.json` instead of a file, apply applies exactly that \
            plan, and refuses it (exit 79, nothing sent) when a license it changes was changed since, or an \
            order it creates licenses for has another number of them. \
            The changes go as a run of their own, in this process (journal FILE.apply.sqlite or --journal J; \
            results beside it, .results.csv, or --results), with every sending option of run: exactly once under faults and kills, resumed by running the same command \
            again (which plans again: what was applied is no longer a difference). status, audit and undo \
            work on its journal.

            \(ExitStatus.helpText)
            """
    )

    @OptionGroup var sync: SyncOptions

    @Flag(help: "Apply without asking (for cron).")
    var yes = false

    @OptionGroup(title: "How the changes are sent") var sending: SendingOptions

    func run() async throws {
        let started = ContinuousClock.now
        let plan: SyncPlan
        var journalPath = sync.journalPath
        do {
            if let saved = SavedPlan.read(sync.input.file) {
                // A plan saved by `plan -o`: exactly that plan, unless the account moved since.
                plan = saved
                journalPath = sync.journal ?? saved.journalPath ?? sync.journalPath
                var configuration = RunConfiguration(
                    inputPath: sync.input.file, ingest: .init(), journalPath: journalPath)
                configuration.rate = sync.account.rate == 0 ? nil : sync.account.rate
                try await sync.withClient { client in
                    try await SavedPlan.check(saved, configuration: configuration, client: client)
                }
            } else {
                plan = try await sync.plan()
            }
        } catch let code as ExitCode {
            // The plan could not be made (the token refused, the account unreachable, the file invalid):
            // a nightly job's metrics say so as a run's would.
            if let metricsFile = sending.metricsFile, let status = ExitStatus(rawValue: code.rawValue) {
                MetricsFile.write(to: metricsFile, report: nil, status: status, input: sync.input.file)
            }
            throw code
        }
        // With --json, standard output is the run's summary alone; the plan goes to stderr.
        if sending.json { Output.errorBytes(Array(plan.text.utf8)) } else { Output.resultBytes(Array(plan.text.utf8)) }
        guard !plan.isEmpty else {
            let report = ProvisioningRun.Report.nothingToDo(
                journalPath: journalPath, elapsed: ContinuousClock.now - started)
            let status = ExitStatus.success
            if sending.json {
                _ = RunSummary.print(
                    report, command: RunExecution.commandLine, maxProblems: sending.maxProblems, json: true)
            } else {
                Output.result("nothing to apply: the account's managed licenses equal the file")
            }
            if let metricsFile = sending.metricsFile {
                MetricsFile.write(to: metricsFile, report: report, status: status, input: sync.input.file)
            }
            throw status.exitCode
        }
        if !yes {
            guard isatty(0) == 1 && isatty(2) == 1 else {
                Output.error(
                    "apply changes the account: pass --yes to apply without asking (licprov plan shows the same plan)")
                throw ExitStatus.usage.exitCode
            }
            Output.error("apply these \(plan.steps.count) changes? type yes: ", newline: false)
            guard readLine()?.trimmingCharacters(in: .whitespaces).lowercased() == "yes" else {
                Output.error("not confirmed; nothing was sent")
                throw ExitStatus.usage.exitCode
            }
        }
        let markerKey = try sync.input.marker.resolve(journalPath: journalPath, noMarker: sync.input.noMarker)
        throw try await DerivedRun.run(
            plan.rows(), files: DerivedRun.Files(journal: journalPath), idColumn: SyncPlan.syncIDColumn,
            markerKey: markerKey, account: sync.account, sending: sending, metricsLabel: sync.input.file
        ).exitCode
    }
}

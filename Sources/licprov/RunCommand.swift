import ArgumentParser
import Provisioning

/// `licprov run FILE`: create every valid row's licenses, exactly once, resumably.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Create the licenses an order file asks for, journaled so that a rerun resumes without duplicates.",
        discussion: """
            The token comes from CRYPTLEX_ACCESS_TOKEN or --token-file, never from the command line. \
            The journal (default FILE.licprov.sqlite) records every request before it is sent; run the \
            same command again after any interruption and only unfinished licenses are sent. \
            Results go to FILE.results.csv; the summary goes to stdout, progress and logs to stderr.

            Who a license belongs to: email, firstName, lastName, company (the customer's Cryptlex user, \
            found or created once per journal); organization.name, organization.email, \
            organization.allowedUsers, organization.description, organization.address.<field> (the end \
            customer's company); reseller.name, reseller.email, reseller.allowedUsers, \
            reseller.allowedOrganizations (the reseller the order came through; --set reseller.name=… for a \
            whole sheet). Organizations and resellers are found by name (any case) or created once per \
            journal, an organization under its reseller; users created for a row go into its organization \
            and reseller; the license links to all three, and the results file has organization_id and reseller_id. \
            An update row with an email moves its license to that customer (its PATCH sends the user's id).

            \(ExitStatus.helpText)
            """
    )

    @OptionGroup var input: InputOptions

    @Option(help: "The journal file (default: FILE.licprov.sqlite).")
    var journal: String?

    @Flag(help: "Send the valid rows of a file that has invalid ones; the invalid ones are reported as rejected.")
    var skipInvalid = false

    @OptionGroup var account: AccountOptions

    @OptionGroup var sending: SendingOptions

    @Flag(
        help:
            "Read and plan everything, show what would be sent and what a rerun would skip; send nothing, write nothing."
    )
    var dryRun = false

    func validate() throws {
        if sending.resultsColumns == .input && input.file == "-" {
            throw ValidationError(
                "--results-columns input reads the file again for its cells: give a file, not standard input")
        }
    }

    func run() async throws {
        let options = try input.ingestOptions()
        var configuration = RunConfiguration(inputPath: input.file, ingest: options, journalPath: journal)
        configuration.skipInvalid = skipInvalid
        configuration.markerKey = options.markerKey
        configuration.markerKeyChoice = input.marker.choice(noMarker: input.noMarker)
        configuration.keepIDAsMetadata = options.keepIDAsMetadata
        configuration.dryRun = dryRun
        configuration.commandLine = RunExecution.commandLine
        if input.noMarker {
            Output.error(
                "warning: --no-marker: a lost response can only be settled for rows with their own key; other rows may end up unresolved"
            )
        }
        throw try await RunExecution.perform(
            configuration, account: account, sending: sending, metricsLabel: input.file
        ).exitCode
    }
}

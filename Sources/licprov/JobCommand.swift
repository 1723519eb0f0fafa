import ArgumentParser

/// `licprov job CONFIG`: the unattended job a config file describes, for systemd units and cron.
///
/// ```toml
/// [job]
/// command = "apply"                    # or "run"
/// file = "/srv/exports/nightly.csv"
/// ```
///
/// Written out by ``ConfigFile/expand(_:environment:)`` at the entry point, before anything is
/// parsed: `licprov job CONFIG [FLAG…]` is `licprov COMMAND FILE --config CONFIG [FLAG…]`, with
/// `--yes` for apply (a job is unattended: the config file is the consent). This type gives the
/// command its help, man page and completions; its `run` is reached only when that expansion was
/// skipped, which is a bug.
struct JobCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "job",
        abstract:
            "Run the job a config file describes: its [job] table names the command (run or apply) and the file. For systemd units and cron.",
        discussion: """
            licprov job CONFIG [FLAG…] is licprov COMMAND FILE --config CONFIG [FLAG…], with --yes for apply \
            (a job is unattended: the config file is the consent). The file's other keys are flags as for \
            --config; flags after CONFIG win over the file's (a unit passes --token-file, --journal, \
            --results and --metrics-file so that its state stays in its StateDirectory). \
            The licprov-sync@.service and .timer units run `licprov job /etc/licprov/INSTANCE.toml`.

            \(ExitStatus.helpText)
            """
    )

    @Argument(
        help: ArgumentHelp(
            "The config file: a [job] table (command = \"apply\" or \"run\", file = PATH) and any flags.",
            valueName: "CONFIG"))
    var config: String

    @Argument(parsing: .captureForPassthrough, help: "Flags for the command, after the file's.")
    var flags: [String] = []

    func run() async throws {
        Output.error("licprov: job \(config) was not expanded into its command (a bug: please report it)")
        throw ExitStatus.internalError.exitCode
    }
}

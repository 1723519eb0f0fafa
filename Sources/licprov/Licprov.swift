import ArgumentParser

/// The command-line shell: subcommands only; the work is in Provisioning.
@main
struct Licprov: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "licprov",
        abstract: "Provision software licenses in bulk through the Cryptlex Web API v3.",
        discussion: ExitStatus.helpText,
        version: LicprovVersion.current,
        subcommands: [ValidateCommand.self, RunCommand.self, StatusCommand.self, ExportCommand.self]
    )
}

enum LicprovVersion {
    static let current = "0.2.0"
}

import ArgumentParser
import BuildInfo
import Provisioning

/// The command-line shell: subcommands only; the work is in Provisioning.
@main
struct Licprov: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "licprov",
        abstract: "Provision software licenses in bulk through the Cryptlex Web API v3.",
        discussion: ExitStatus.helpText,
        version: BuildInfo.versionLine,
        subcommands: [
            ValidateCommand.self, RunCommand.self, StatusCommand.self, ExportCommand.self, AuditCommand.self,
            UndoCommand.self, ReportCommand.self, DoctorCommand.self, PlanCommand.self, ApplyCommand.self,
            JobCommand.self, PullCommand.self,
        ]
    )

    /// ArgumentParser's own `main`, after ``ProcessSetup`` (umask, SIGPIPE).
    static func main() async {
        ProcessSetup.apply()
        let arguments: [String]
        do {
            arguments = try ConfigFile.expand(ConfigFile.expandJob(Array(CommandLine.arguments.dropFirst())))
        } catch {
            Output.error("\(error)")
            exit(withError: ExitCode(ExitStatus.usage.rawValue))
        }
        do {
            var command = try parseAsRoot(arguments)
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}

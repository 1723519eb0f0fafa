import Foundation
import PackagePlugin

/// Gives the `BuildInfo` target its version and commit before every build, by running
/// `scripts/build-info.sh` (the VERSION file, and `git rev-parse` of the package's checkout).
///
/// A prebuild command rather than a build command: the commit changes without any file SwiftPM
/// could name as an input, so it is read each time (a few milliseconds); the script rewrites the
/// generated file only when its text changes, so an unchanged commit recompiles nothing.
@main
struct BuildInfoPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let output = context.pluginWorkDirectoryURL.appending(path: "generated")
        let package = context.package.directoryURL
        let environment = ProcessInfo.processInfo.environment
        var passed = ["PATH": environment["PATH"] ?? "/usr/bin:/bin"]
        if let commit = environment["LICPROV_COMMIT"] { passed["LICPROV_COMMIT"] = commit }
        return [
            .prebuildCommand(
                displayName: "licprov version and commit",
                executable: URL(filePath: "/bin/sh"),
                arguments: [package.appending(path: "scripts/build-info.sh").path(), package.path(), output.path()],
                environment: passed,
                outputFilesDirectory: output
            )
        ]
    }
}

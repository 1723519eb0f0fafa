/// What build of licprov this is: the version (the repository's `VERSION` file, the one place it
/// is written) and the commit it was built from, both filled in before each build by the
/// `BuildInfoPlugin` (`scripts/build-info.sh`). The emulator says the same: the two ship together.
package enum BuildInfo {
    /// `0.3.0 (abc1234)`: what `--version` prints, so that a bug report names its build.
    package static var versionLine: String { "\(version) (\(commit))" }
}

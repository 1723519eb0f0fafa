import ArgumentParser
import Provisioning

/// `--marker-key`, declared once: every command that reads or writes markers takes it. Left out,
/// a command uses the key the journal records (the run's), else `licprov_request`; given, it must
/// agree with the journal's (exit 64, naming both).
struct MarkerKeyOption: ParsableArguments {
    @Option(
        help:
            "The metadata key of the marker licprov puts on each license to find it again (default: the journal's, else licprov_request)."
    )
    var markerKey: String?

    func validate() throws {
        if let markerKey, markerKey.isEmpty || markerKey.count > 256 {
            throw ValidationError("--marker-key must be 1–256 characters")
        }
    }

    /// What the flags say (`noMarker`: `--no-marker`, where the command has it).
    func choice(noMarker: Bool = false) -> MarkerKeyChoice {
        noMarker ? .none : markerKey.map { .key($0) } ?? .unspecified
    }

    /// The key to use with the journal at `journalPath` (nil: no marker); a usage error when it
    /// disagrees with the journal's, said on stderr.
    func resolve(journalPath: String, noMarker: Bool = false) throws -> String? {
        do {
            return try choice(noMarker: noMarker).resolve(journalPath: journalPath)
        } catch {
            Output.error(error.localizedDescription)
            throw ExitStatus.for(error).exitCode
        }
    }
}

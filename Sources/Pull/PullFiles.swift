import Foundation

/// Where an interrupted pull stands (`FILE.pull.json`), rewritten atomically after every page.
struct PullState: Codable, Sendable, Equatable {
    var version = 1
    /// The products and conditions it pulls (a record of another selection is not resumed).
    var selection: String
    /// The product being read (an index into `--product-id`s).
    var product = 0
    /// The `createdAt` of the newest license read of the product, and the ids read at exactly that time.
    var cursor: String?
    var seen: [String] = []
    /// The page to ask for from the cursor (above 1 only within one `createdAt`).
    var page = 1
    /// How much of the spool the record vouches for: the rest is cut off on resume.
    var spoolBytes: UInt64 = 0
    var licenses = 0
    var pages = 0
    /// The license fields and metadata keys the pulled licenses have (the layout's columns).
    var fields: [String] = []
    var metadataKeys: [String] = []
    /// Every page is in: only the output is left to write.
    var done = false

    init(selection: String) { self.selection = selection }
}

/// The files of a pull: the spool of pulled licenses and the record of where it stands, beside the
/// output (`FILE.pull.ndjson`, `FILE.pull.json`), or in a scratch directory for standard output.
struct PullFiles {
    let spoolPath: String
    let statePath: String
    private let scratch: String?

    init(output: String?) {
        if let output {
            spoolPath = output + ".pull.ndjson"
            statePath = output + ".pull.json"
            scratch = nil
        } else {
            let directory =
                NSTemporaryDirectory()
                + "licprov-pull-\(ProcessInfo.processInfo.processIdentifier)-\(UInt32.random(in: 0...UInt32.max))"
            try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            spoolPath = directory + "/pull.ndjson"
            statePath = directory + "/pull.json"
            scratch = directory
        }
    }

    /// The record of an interrupted pull of the same selection, or a fresh one.
    func resume(selection: String) throws(PullError) -> PullState {
        guard let data = FileManager.default.contents(atPath: statePath) else { return PullState(selection: selection) }
        guard let state = try? JSONDecoder().decode(PullState.self, from: data), state.version == 1 else {
            throw PullError.file(
                "\(statePath) is not a pull's record; remove it (and \(spoolPath)) to start the pull over")
        }
        guard state.selection == selection else {
            throw PullError.usage(
                "\(statePath) records an interrupted pull of other products or conditions; run that pull again to finish it, or remove \(statePath) and \(spoolPath) to start this one"
            )
        }
        return state
    }

    /// The spool, cut back to `length` (what the record vouches for), open at its end.
    func openSpool(length: UInt64) throws(PullError) -> FileHandle {
        if !FileManager.default.fileExists(atPath: spoolPath) {
            guard length == 0 else {
                throw PullError.file("\(spoolPath) is missing; remove \(statePath) to start the pull over")
            }
            guard FileManager.default.createFile(atPath: spoolPath, contents: nil) else {
                throw PullError.file(
                    "cannot create \(spoolPath): the output's folder must exist and be writable (the pull keeps its pages beside the output)"
                )
            }
        }
        do {
            let handle = try FileHandle(forUpdating: URL(fileURLWithPath: spoolPath))
            guard try handle.seekToEnd() >= length else {
                throw PullError.file("\(spoolPath) is shorter than \(statePath) says; remove both to start over")
            }
            try handle.truncate(atOffset: length)
            try handle.seekToEnd()
            return handle
        } catch let error as PullError {
            throw error
        } catch {
            throw PullError.file("cannot open \(spoolPath): \(error.localizedDescription)")
        }
    }

    /// Records `state`, atomically.
    func save(_ state: PullState) throws(PullError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        do {
            try encoder.encode(state).write(to: URL(fileURLWithPath: statePath), options: .atomic)
        } catch {
            throw PullError.file("cannot write \(statePath): \(error.localizedDescription)")
        }
    }

    /// Removes the spool and the record (or the scratch directory).
    func removeScratch() {
        if let scratch {
            try? FileManager.default.removeItem(atPath: scratch)
        } else {
            try? FileManager.default.removeItem(atPath: spoolPath)
            try? FileManager.default.removeItem(atPath: statePath)
        }
    }
}

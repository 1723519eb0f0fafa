import Foundation
import GRDB
import Testing

@testable import Journal

@Suite("Group commit and registration")
struct JournalCommitterTests {
    func journalWithEntries(_ count: Int) throws -> (SQLiteJournal, [Int64]) {
        let journal = try SQLiteJournal(path: try SQLiteJournalTests.temporaryPath())
        let ids = try SQLiteJournalTests.insert(
            (1...count).map { SQLiteJournalTests.intent("R-\($0)", line: $0 + 1) }, into: journal)
        return (journal, ids)
    }

    @Test func concurrentWritesShareTransactionsAndAllReachTheDisk() async throws {
        let (journal, ids) = try journalWithEntries(200)
        let run = try journal.beginRun(command: "test", version: "0")
        let committer = JournalCommitter(journal: journal, run: run)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for id in ids {
                group.addTask {
                    try await committer.markInFlight(id)
                    try committer.post(
                        AttemptOutcome(
                            entryID: id, state: .created, httpStatus: 201, licenseID: "L-\(id)", licenseKey: "K-\(id)"))
                }
            }
            try await group.waitForAll()
        }
        try await committer.flush()
        // 400 writes; group commit needs fewer transactions than writes.
        #expect(committer.commitCount < 400)
        let reopened = try SQLiteJournal(path: journal.path)
        #expect(try reopened.counts() == [.created: 200])
        let queue = try DatabaseQueue(path: journal.path)
        let attempts = try await queue.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM attempt WHERE outcome = 'created'")
        }
        #expect(attempts == 200)
    }

    @Test func markInFlightReturnsOnlyOnceEarlierPostedOutcomesAreOnDiskToo() async throws {
        let (journal, ids) = try journalWithEntries(2)
        let committer = JournalCommitter(journal: journal, run: try journal.beginRun(command: "test", version: "0"))
        try committer.post(AttemptOutcome(entryID: ids[0], state: .rejected, httpStatus: 400, error: "bad"))
        try await committer.markInFlight(ids[1])
        let states = try SQLiteJournal(path: journal.path).allEntries().map(\.state)
        #expect(states == [.rejected, .inFlight])
    }

    @Test func aFailedCommitIsReportedToEveryLaterCall() async throws {
        let (journal, ids) = try journalWithEntries(1)
        // No such run: the attempt row breaks its foreign key.
        let committer = JournalCommitter(journal: journal, run: 9999)
        try committer.post(AttemptOutcome(entryID: ids[0], state: .created))
        await #expect(throws: JournalError.self) { try await committer.flush() }
        #expect(throws: JournalError.self) { try committer.post(AttemptOutcome(entryID: ids[0], state: .created)) }
    }

    @Test func aRegistrationThatThrowsLeavesNothingBehind() throws {
        let journal = try SQLiteJournal(path: try SQLiteJournalTests.temporaryPath())
        struct Stop: Error {}
        #expect(throws: Stop.self) {
            try journal.registering { registration in
                _ = try registration.insert(SQLiteJournalTests.intent("R-1"))
                throw Stop()
            }
        }
        #expect(try journal.allEntries().isEmpty)
        let id = try journal.registering { try $0.insert(SQLiteJournalTests.intent("R-2")) }
        #expect(try journal.entry(id: id)?.rowID == "R-2")
    }

    @Test func entriesStreamInFileOrderAndChangesApply() throws {
        let journal = try SQLiteJournal(path: try SQLiteJournalTests.temporaryPath())
        let ids = try SQLiteJournalTests.insert(
            [
                SQLiteJournalTests.intent("B", line: 3), SQLiteJournalTests.intent("A", line: 2),
                SQLiteJournalTests.intent("A", unit: 2, line: 2),
            ], into: journal)
        try journal.registering { registration in
            try registration.apply(.moveTo(id: ids[0], sourceLine: 1))
            try registration.apply(.noteEdit(id: ids[1], operation: StoredOperation(.delete), bodyHash: "x"))
        }
        var order: [String] = []
        try journal.forEachEntry { order.append("\($0.rowID)/\($0.unit)") }
        #expect(order == ["B/1", "A/1", "A/2"])
        var digests: [EntryDigest] = []
        try journal.forEachDigest { digests.append($0) }
        #expect(digests.first { $0.id == ids[1] }?.editedHash == "x")
        #expect(try journal.entries(ids: [ids[2], ids[0]]).keys.sorted() == [ids[0], ids[2]].sorted())
    }
}

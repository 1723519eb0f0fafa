import APIRequests
import Journal

/// Where a worker records what became of an entry: its state transition posted to the journal's
/// committer, and the run's counts *derived from that transition here*, in one place — never
/// bumped beside it. A failure, rejection or conflict counts toward `--max-failures` here too.
struct OutcomeRecorder: Sendable {
    let committer: JournalCommitter
    let requests: RunRequests
    let maxFailures: Int

    /// The entry is settled for this run as `outcome.state` says (a change's `created`: changed).
    func settle(_ outcome: AttemptOutcome, change: Bool) throws(JournalError) {
        precondition(
            outcome.state != .pending && outcome.state != .inFlight, "settled as \(outcome.state): that is leaving it")
        try committer.post(outcome)
        requests.counters.update { $0.count(outcome.state, change: change) }
        if [.failed, .rejected, .conflict].contains(outcome.state) { requests.noteFailure(maxFailures: maxFailures) }
    }

    /// A change the license already shows (an update whose every field holds): settled as applied,
    /// with nothing sent, and counted unchanged, not changed.
    func settleUnchanged(_ outcome: AttemptOutcome) throws(JournalError) {
        try committer.post(outcome)
        requests.counters.update { $0.unchanged += 1 }
    }

    /// An entry whose row left the file, verified not to have taken effect (recorded pending by the
    /// verification): nothing is sent for it.
    func leaveGone() throws(JournalError) {
        requests.counters.update { $0.notInFile += 1 }
    }

    /// The entry is left for a later run (the run stopped, a read failed): `outcome` recorded when
    /// there is one (pending; in flight stays as marked), counted not sent.
    func leave(_ outcome: AttemptOutcome? = nil) throws(JournalError) {
        if let outcome { try committer.post(outcome) }
        requests.counters.update { $0.notSent += 1 }
    }
}

extension RunCounts {
    /// Counts an entry settled as `state` by this run.
    mutating func count(_ state: JournalEntry.State, change: Bool) {
        switch state {
        case .created: if change { changed += 1 } else { created += 1 }
        case .recovered: recovered += 1
        case .failed: failed += 1
        case .rejected: rejected += 1
        case .conflict: conflicts += 1
        case .unresolved: unresolved += 1
        case .pending, .inFlight: break
        }
    }
}

import Foundation
import Logging
import Simulation

// The processes' own logs (a refused filter, a retry) are the trace's business, not the terminal's.
LoggingSystem.bootstrap { _ in SwiftLogNoOpLogHandler() }

/// `licprov-simulate`: runs schedules of the simulation (scripts/simulate.sh is its front door).
///
///   licprov-simulate --seeds N [--base B] [--jobs J]   N schedules from seeds drawn from B
///   licprov-simulate --seed S                           one schedule, its whole trace printed
let usage = "usage: licprov-simulate --seeds N [--base B] [--jobs J] | --seed S"
var arguments = Array(CommandLine.arguments.dropFirst())
var count: Int?
var base = UInt64.random(in: 1...UInt64(UInt32.max))
var jobs = 2
var only: UInt64?
while !arguments.isEmpty {
    let name = arguments.removeFirst()
    guard let value = arguments.first else {
        FileHandle.standardError.write(Data("\(name) needs a value\n\(usage)\n".utf8))
        exit(64)
    }
    arguments.removeFirst()
    switch name {
    case "--seeds": count = Int(value)
    case "--base": base = UInt64(value) ?? 0
    case "--jobs": jobs = max(1, Int(value) ?? 2)
    case "--seed": only = UInt64(value)
    default:
        FileHandle.standardError.write(Data("unknown option \(name)\n\(usage)\n".utf8))
        exit(64)
    }
}

let simulator = Simulator()
if let only {
    let outcome = await simulator.run(Schedule(seed: only))
    for line in outcome.trace { print(line) }
    print("trace: \(outcome.digest)")
    for violation in outcome.violations { print("VIOLATION: \(violation)") }
    exit(outcome.violations.isEmpty ? 0 : 1)
}
guard let count, count > 0 else {
    FileHandle.standardError.write(Data("\(usage)\n".utf8))
    exit(64)
}
var seeds = SimulationSeeds(base: base)
let schedule = (0..<count).map { _ in seeds.next() }
print("simulating \(count) schedules from base \(base) (\(jobs) at a time)")
let started = ContinuousClock.now
let report = await Simulation.run(seeds: schedule, jobs: jobs, simulator: simulator) { done in
    if done % 100 == 0 { FileHandle.standardError.write(Data("  \(done)/\(count)\n".utf8)) }
}
let seconds =
    Double((ContinuousClock.now - started).components.seconds)
    + Double((ContinuousClock.now - started).components.attoseconds) / 1e18
print(report.summary(seconds: seconds))
for failure in report.failures {
    print("")
    print("seed \(failure.seed): \(failure.violations.count) violations")
    for violation in failure.violations.prefix(5) { print("  \(violation)") }
    print("  trace (last 12 of \(failure.trace.count)): ")
    for line in failure.trace.suffix(12) { print("    \(line)") }
    print("  replay: scripts/simulate.sh --seed \(failure.seed)")
}
if let first = report.failures.compactMap({ failure in schedule.firstIndex(of: failure.seed) }).min() {
    print("the first failing schedule is number \(first + 1) of \(count) (seed \(schedule[first]))")
}
print("simulated \(count) schedules: \(report.failures.reduce(0) { $0 + $1.violations.count }) violations")
exit(report.failures.isEmpty ? 0 : 1)

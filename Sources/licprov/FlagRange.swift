import ArgumentParser

/// The allowed range of every numeric flag, checked before anything runs: a value outside it —
/// NaN, infinity, zero where zero makes no sense, a number that would overflow a timer — is a
/// usage error (exit 64) that names the flag and the range, never a trap later.
enum FlagRange {
    static let concurrency = 1...256
    /// Requests per second; 0 (no client-side limit) is allowed separately.
    static let rate = 0.01...10_000.0
    static let burst = 1...1_000
    static let windowLimit = 1...100_000
    static let retryBase = 0.001...3_600.0
    static let retryCap = 0.001...86_400.0
    static let maxAttempts = 1...100
    static let requestTimeout = 0.1...3_600.0
    static let reconcileDelay = 0.0...3_600.0
    static let maxFailures = 0...Int(Int32.max)
    static let maxProblems = 0...Int(Int32.max)
    static let max429s = 1...1_000_000
    static let stallTimeout = 1.0...604_800.0
    static let unreachableTimeout = 0.0...604_800.0

    static func check<Value: Comparable>(
        _ flag: String, _ value: Value, _ range: ClosedRange<Value>, orZero: Bool = false
    ) throws {
        if range.contains(value) { return }
        if orZero, (value as? Double) == 0 || (value as? Int) == 0 { return }
        throw ValidationError(
            "--\(flag) must be \(orZero ? "0 or " : "")from \(range.lowerBound) to \(range.upperBound), not \(value)")
    }

    /// `--retry-base` and `--retry-cap`, each in range and the cap no smaller than the base (`run`,
    /// and the derived runs of `undo` and `apply`).
    static func checkBackoff(base: Double, cap: Double) throws {
        try check("retry-base", base, retryBase)
        try check("retry-cap", cap, retryCap)
        guard cap >= base else { throw ValidationError("--retry-cap (\(cap)) must be at least --retry-base (\(base))") }
    }
}

import Foundation

/// Duration conversions, in one place: none traps, whatever the value.
extension Duration {
    /// The whole duration in nanoseconds, saturating at `Int64`'s bounds.
    package var nanosecondCount: Int64 {
        let (seconds, attoseconds) = components
        let (product, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        let (sum, sumOverflow) = product.addingReportingOverflow(attoseconds / 1_000_000_000)
        return sumOverflow ? (seconds < 0 ? .min : .max) : sum
    }

    /// In seconds, for display and for arithmetic with dates.
    package var secondsValue: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }

    /// `seconds` as a duration, to the millisecond; NaN is zero, and values beyond ±292 years
    /// saturate (flags are range-checked before they get here).
    package init(secondsValue seconds: Double) {
        let milliseconds = (seconds * 1000).rounded()
        guard milliseconds.isFinite else {
            self = seconds.isNaN ? .zero : (seconds < 0 ? .milliseconds(Int64.min) : .milliseconds(Int64.max))
            return
        }
        self = .milliseconds(Int64(max(min(milliseconds, 9.2e18), -9.2e18)))
    }
}

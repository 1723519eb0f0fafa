import CryptlexEmulator
import Foundation
import TestSupport

extension EmulatorClock {
    /// `origin` (the wall clock at this moment), moved from then on by `clock` alone: an emulator
    /// whose time (`createdAt`, its search's lag, its rate-limit windows) is the test's or the
    /// simulation's.
    package static func following(_ clock: ManualClock, from origin: Date = Date()) -> EmulatorClock {
        let origin = Int64(origin.timeIntervalSince1970 * 1e9)
        let start = clock.now
        return EmulatorClock {
            let (seconds, attoseconds) = start.duration(to: clock.now).components
            return origin + seconds * 1_000_000_000 + attoseconds / 1_000_000_000
        }
    }
}

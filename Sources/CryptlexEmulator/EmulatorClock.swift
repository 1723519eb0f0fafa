/// What "now" is for the emulator: the wall clock when it serves, or a simulation's clock.
///
/// Every time the emulator keeps — a license's `createdAt`, a renewal's new expiry, the rate
/// limit's windows, how far the search index lags — is read from it, so a simulation that moves
/// its own clock sees an account that moves with it.
public struct EmulatorClock: Sendable {
    private let read: @Sendable () -> Int64

    /// A clock that reads `nanosecondsSince1970` each time.
    public init(nanosecondsSince1970: @escaping @Sendable () -> Int64) {
        read = nanosecondsSince1970
    }

    /// The system's wall clock (`CLOCK_REALTIME`).
    public static let wall = EmulatorClock(nanosecondsSince1970: ContinuousClockReference.wallNanoseconds)

    /// Now, in ticks (100 ns) since 1970.
    public var nowTicks: Int64 { read() / 100 }
}

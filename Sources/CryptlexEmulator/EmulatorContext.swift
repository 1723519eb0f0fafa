import Hummingbird
import NIOCore

#if canImport(Glibc)
    import Glibc
#endif

/// The request context: Hummingbird's core storage plus the connection, which the emulator needs
/// to learn the client's IP (for the rate limit) and to reset the connection (for faults).
struct EmulatorContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }

    /// The client's IP address, the rate limit's key.
    var clientIP: String { channel.remoteAddress?.ipAddress ?? "unknown" }

    /// Resets the connection (TCP RST, no reply), as a crashed proxy or a dropped link would.
    func resetConnection() async {
        if let provider = channel as? any SocketOptionProvider {
            try? await provider.setSoLinger(linger(l_onoff: 1, l_linger: 0)).get()
        }
        try? await channel.close()
    }
}

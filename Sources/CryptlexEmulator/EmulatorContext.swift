import Hummingbird
import Logging
import NIOCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The request context: Hummingbird's core storage plus the connection, which the emulator needs
/// to learn the client's IP (for the rate limit) and to reset the connection (for faults).
///
/// The connection is a socket's channel when the emulator serves HTTP, or an ``InProcessPeer``
/// when a test or a simulation calls it in process (``InProcessEmulator``): a reset is then a flag
/// the caller reads as a dropped connection.
struct EmulatorContext: RequestContext {
    enum Connection {
        case channel(any Channel)
        case inProcess(InProcessPeer)
    }

    var coreContext: CoreRequestContextStorage
    let connection: Connection

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        connection = .channel(source.channel)
    }

    init(peer: InProcessPeer, logger: Logger) {
        coreContext = .init(source: InProcessSource(logger: logger))
        connection = .inProcess(peer)
    }

    /// The client's IP address, the rate limit's key.
    var clientIP: String {
        switch connection {
        case .channel(let channel): channel.remoteAddress?.ipAddress ?? "unknown"
        case .inProcess(let peer): peer.clientIP
        }
    }

    /// Resets the connection (TCP RST, no reply), as a crashed proxy or a dropped link would.
    func resetConnection() async {
        switch connection {
        case .channel(let channel):
            if let provider = channel as? any SocketOptionProvider {
                try? await provider.setSoLinger(linger(l_onoff: 1, l_linger: 0)).get()
            }
            try? await channel.close()
        case .inProcess(let peer):
            peer.reset()
        }
    }
}

/// Where an in-process request comes from: its client address, and whether the emulator dropped
/// its connection instead of answering.
final class InProcessPeer: Sendable {
    let clientIP: String
    private let wasReset = Mutex(false)

    init(clientIP: String) { self.clientIP = clientIP }

    func reset() { wasReset.withLock { $0 = true } }
    var isReset: Bool { wasReset.withLock { $0 } }
}

private struct InProcessSource: RequestContextSource {
    let logger: Logger
}

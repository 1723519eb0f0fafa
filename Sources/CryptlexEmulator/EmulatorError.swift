import Foundation

/// Errors that stop the emulator from starting.
public enum EmulatorError: Error, LocalizedError, Sendable {
    case badSchemaDocument(String)
    case stoppedBeforeListening
    case tlsFileUnusable(path: String, reason: String)

    public var errorDescription: String? {
        switch self {
        case .badSchemaDocument(let reason): "the OpenAPI schema could not be loaded: \(reason)"
        case .stoppedBeforeListening: "the emulator stopped before it accepted connections"
        case .tlsFileUnusable(let path, let reason): "the TLS file \(path) \(reason)"
        }
    }
}

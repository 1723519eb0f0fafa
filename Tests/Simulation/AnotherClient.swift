import CryptlexAPI
import CryptlexEmulator
import EmulatorTransport
import Foundation
import Synchronization

/// Another client of the same account, acting the moment one of licprov's requests meets what it
/// waits for: it creates the schedule's raced customer just before licprov's own create of that
/// customer reaches the server, so licprov's gets the 409 a taken email gives and must find and
/// use the other's user.
final class AnotherClient: Sendable {
    private let emulator: CryptlexEmulator
    private let raceEmail: String?
    private let raced = Mutex(false)

    init(emulator: CryptlexEmulator, raceEmail: String?) {
        self.emulator = emulator
        self.raceEmail = raceEmail
    }

    /// Whether the other client created its user (a licprov process asked to create it).
    var didRace: Bool { raced.withLock { $0 } }

    /// What the other client does just before `request` reaches the server: a line for the trace.
    func before(_ request: TransportRequest) async -> String? {
        guard let raceEmail, request.method == "POST", InProcessTransport.target(of: request.url) == "/v3/users",
            let body = request.body,
            let fields = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
            (fields["email"] as? String)?.lowercased() == raceEmail,
            raced.withLock({ raced in
                defer { raced = true }
                return !raced
            })
        else { return nil }
        do {
            _ = try await emulator.store.createUser(
                ["email": .string(raceEmail), "firstName": .string("Created"), "lastName": .string("Elsewhere")],
                nowTicks: emulator.clock.nowTicks)
        } catch {
            return "another client could not create user \(raceEmail): \(error)"
        }
        return "another client created user \(raceEmail)"
    }
}

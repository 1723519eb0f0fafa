import Foundation
import Hummingbird
import NIOCore

/// The admin routes under `/__admin/`: never rate limited, never faulted, no token. They exist
/// for tests and rehearsals, and live outside `/v3` so no client of the real API can reach them.
extension CryptlexEmulator {
    func addAdminRoutes(to router: Router<EmulatorContext>) {
        let admin = router.group("/__admin")
        admin.get("licenses") { _, _ in try Self.json(JSONValue.array(await self.store.allLicenses())) }
        admin.get("users") { _, _ in try Self.json(JSONValue.array(await self.store.allUsers())) }
        admin.get("organizations") { _, _ in try Self.json(JSONValue.array(await self.store.allOrganizations())) }
        admin.get("resellers") { _, _ in try Self.json(JSONValue.array(await self.store.allResellers())) }
        admin.get("counters") { _, _ in try Self.json(await self.store.snapshot()) }
        admin.get("changes") { _, _ in try Self.json(await self.store.changesByLicense()) }
        admin.get("faults") { _, _ in try Self.json(await self.faults.current()) }
        admin.put("faults") { request, context in
            let body = try await request.body.collect(upTo: context.maxUploadSize)
            let settings: FaultSettings
            do {
                settings = try JSONDecoder().decode(FaultSettings.self, from: Data(buffer: body))
            } catch {
                return Self.errorResponse(.badRequest, "Bad fault settings: \(error)", code: nil, headers: [:])
            }
            if let problem = settings.problem() {
                return Self.errorResponse(.badRequest, "Bad fault settings: \(problem)", code: nil, headers: [:])
            }
            await self.faults.replace(with: settings)
            return try Self.json(settings)
        }
        admin.put("rate-limit") { request, context in
            struct Setting: Codable { var paused: Bool }
            let body = try await request.body.collect(upTo: context.maxUploadSize)
            guard let setting = try? JSONDecoder().decode(Setting.self, from: Data(buffer: body)) else {
                return Self.errorResponse(
                    .badRequest, "Bad rate-limit setting: send {\"paused\": true} or {\"paused\": false}", code: nil,
                    headers: [:])
            }
            await self.rateLimiter?.pause(setting.paused)
            return try Self.json(setting)
        }
        admin.post("reset") { _, _ in
            await self.store.reset()
            await self.rateLimiter?.reset()
            await self.faults.replace(with: FaultSettings())
            return Response(status: .noContent)
        }
    }

    static func json(_ value: some Encodable) throws -> Response {
        Response(
            status: .ok, headers: jsonHeaders([:]),
            body: .init(byteBuffer: ByteBuffer(bytes: try JSONEncoder().encode(value))))
    }
}

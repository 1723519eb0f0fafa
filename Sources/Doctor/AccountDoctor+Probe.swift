import CryptlexAPI
import CryptlexModels
import Foundation
import Provisioning

/// `licprov doctor --write-probe`: one marked license created, the time until the list shows it
/// (the search lag `--reconcile-delay` must exceed), and its deletion. The intent is written to
/// `--probe-file` before the create, so a crash never leaves the license behind: the next doctor
/// finds it by its marker and deletes it.
extension AccountDoctor {
    /// What the probe file holds: enough to find the license again.
    struct ProbeIntent: Codable {
        var apiURL: String
        var markerKey: String
        var marker: String
        var licenseID: String?
    }

    func probe(_ productID: String, _ report: inout Report) async {
        let marker = "lp-doctor-\(UUID().uuidString.lowercased())"
        var intent = ProbeIntent(apiURL: client.baseURL.description, markerKey: options.markerKey, marker: marker)
        do { try Self.write(intent, to: options.probeFile) } catch {
            report.checks.append(
                Check(
                    name: "write probe", status: .failed,
                    detail:
                        "cannot record the probe's intent in \(options.probeFile) (\(error.localizedDescription)); nothing was created"
                ))
            return
        }
        var body = LicenseRequest(productId: productID)
        body.metadata = [LicenseMetadata(key: options.markerKey, value: marker)]
        let sent = ContinuousClock.now
        let created = await call({ () async throws(APIError) in try await client.createLicense(body) })
        var licenseID: String?
        switch created {
        case .success(let answer):
            licenseID = answer.value.id
            intent.licenseID = answer.value.id
            try? Self.write(intent, to: options.probeFile)
        case .failure(let error) where error.status != nil && error.outcome != .ambiguous:
            try? FileManager.default.removeItem(atPath: options.probeFile)
            report.checks.append(
                Check(
                    name: "write probe", status: .failed, detail: "the probe license was refused: \(error.description)")
            )
            return
        case .failure:
            break  // a lost answer: the list settles whether it was made
        }
        let answered = ContinuousClock.now
        // Poll the list as licprov's lookups do, five a second (25 of a window's 50), until the probe
        // shows: it showed by the answer of the poll that found it.
        var shownAt: ContinuousClock.Instant?
        while ContinuousClock.now - answered < options.lagLimit {
            let query = LicenseQuery(metadataKey: options.markerKey, metadataValue: marker)
            let polled = ContinuousClock.now
            if case .success(let answer) = await call(
                paced: false, { () async throws(APIError) in try await client.findLicenses(query, page: 1, limit: 100) }
            ),
                let found = answer.value.first(where: { $0.metadataValue(forKey: options.markerKey) == marker })
            {
                shownAt = ContinuousClock.now
                licenseID = found.id
                break
            }
            try? await Task.sleep(until: polled + .milliseconds(200), clock: .continuous)
        }
        guard let licenseID else {
            report.checks.append(
                Check(
                    name: "search lag", status: .warning,
                    detail:
                        "the probe's create got no answer and no license showed in \(options.lagLimit); the next doctor deletes it if it appears"
                ))
            return
        }
        if let shownAt {
            // From the create's answer: a lookup goes --reconcile-delay after an ambiguous answer.
            let lag = Int(((shownAt - answered).secondsValue * 1000).rounded())
            report.searchLagMilliseconds = lag
            let recommended = max(RunConfiguration.defaultReconcileDelay, (Double(lag) / 1000 * 2 * 2).rounded(.up) / 2)
            report.recommendedReconcileDelay = recommended
            let slow = Double(lag) / 1000 >= RunConfiguration.defaultReconcileDelay
            report.checks.append(
                Check(
                    name: "search lag", status: slow ? .warning : .ok,
                    detail:
                        "the probe license showed in the list \(lag) ms after its create was answered (\(Int(((answered - sent).secondsValue * 1000).rounded())) ms to create); "
                        + "use --reconcile-delay \(Self.seconds(recommended))\(slow ? " (the default \(Self.seconds(RunConfiguration.defaultReconcileDelay)) is too short for this account)" : "")"
                ))
        } else {
            report.checks.append(
                Check(
                    name: "search lag", status: .warning,
                    detail:
                        "the probe license \(licenseID) did not show in the list within \(options.lagLimit): lookups cannot settle lost answers on this account"
                ))
        }
        if await delete(licenseID) {
            try? FileManager.default.removeItem(atPath: options.probeFile)
            report.checks.append(
                Check(name: "write probe", status: .ok, detail: "created license \(licenseID) and deleted it again"))
        } else {
            report.checks.append(
                Check(
                    name: "write probe", status: .warning,
                    detail:
                        "could not delete the probe license \(licenseID); the next doctor tries again (\(options.probeFile))"
                ))
        }
    }

    /// A probe an earlier doctor left (killed between its create and its delete): found by its
    /// marker and deleted.
    func settleLeftoverProbe(_ report: inout Report) async {
        guard let data = FileManager.default.contents(atPath: options.probeFile),
            let intent = try? JSONDecoder().decode(ProbeIntent.self, from: data)
        else { return }
        guard intent.apiURL == client.baseURL.description else {
            report.checks.append(
                Check(
                    name: "earlier probe", status: .warning,
                    detail: "\(options.probeFile) holds a probe of \(intent.apiURL), not this API; left alone"))
            return
        }
        let query = LicenseQuery(metadataKey: intent.markerKey, metadataValue: intent.marker)
        guard
            case .success(let answer) = await call({ () async throws(APIError) in
                try await client.findLicenses(query, page: 1, limit: 100)
            })
        else {
            report.checks.append(
                Check(
                    name: "earlier probe", status: .warning,
                    detail:
                        "could not look up the probe an earlier doctor left (\(options.probeFile)); tried again next time"
                ))
            return
        }
        var ids = Set(answer.value.filter { $0.metadataValue(forKey: intent.markerKey) == intent.marker }.map(\.id))
        if let id = intent.licenseID { ids.insert(id) }
        var deleted = 0
        for id in ids.sorted() where await delete(id) { deleted += 1 }
        guard deleted == ids.count else {
            report.checks.append(
                Check(
                    name: "earlier probe", status: .warning,
                    detail: "could not delete the probe license an earlier doctor left; tried again next time"))
            return
        }
        try? FileManager.default.removeItem(atPath: options.probeFile)
        report.checks.append(
            Check(
                name: "earlier probe", status: .ok,
                detail: ids.isEmpty
                    ? "an earlier doctor was stopped before its probe was made; nothing to delete"
                    : "deleted the probe license an earlier doctor left (\(ids.sorted().joined(separator: ", ")))"))
    }

    /// Deletes a license; gone already counts as deleted. A lost answer is settled by reading it.
    func delete(_ id: String) async -> Bool {
        for _ in 0..<3 {
            switch await call({ () async throws(APIError) in try await client.deleteLicense(id: id) }) {
            case .success: return true
            case .failure(let error) where error.status == 404: return true
            case .failure(let error) where error.status != nil && error.status != 429 && (error.status ?? 0) < 500:
                return false
            case .failure:
                let read = await call({ () async throws(APIError) in try await client.license(id: id) })
                if case .failure(let error) = read, error.status == 404 { return true }
            }
        }
        return false
    }

    static func write(_ intent: ProbeIntent, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let data = try JSONEncoder().encode(intent)
        // Durable before the create goes: a crash after it leaves the intent for the next doctor.
        let temporary = path + ".tmp"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard descriptor >= 0 else { throw CocoaError(.fileWriteNoPermission) }
        let written = data.withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress, $0.count) }
        let synced = fsync(descriptor)
        close(descriptor)
        guard written == data.count, synced == 0, rename(temporary, path) == 0 else {
            throw CocoaError(.fileWriteUnknown)
        }
    }
}

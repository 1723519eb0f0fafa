import APIRequests
import CryptlexAPI
import CryptlexModels
import Foundation
import Journal
import Logging
import Scheduling

/// Turns a row's customer (an email) into a Cryptlex user id, once per journal.
///
/// The first license that needs a customer resolves it; licenses for the same customer that come
/// meanwhile wait for that answer, and licenses for other customers keep flowing. Resolution:
///
/// 1. `GET /v3/users?email[eq]=` (case-insensitive): found → resolved (not created by licprov).
/// 2. Not found: with `--no-create-users` the license is rejected. Otherwise the customer is marked
///    in flight in the journal, durably, and `POST /v3/users` is sent (role `user`, a random
///    password that is never printed, logged or stored; customers set their own in the portal).
/// 3. 201 → resolved. 409 (someone created it meanwhile), a lost answer, a 5xx → look it up
///    again: the email is unique in Cryptlex, so the lookup settles it; no second user is made.
///
/// A customer the journal already knows is resolved without a request, in this run and every later one.
actor CustomerResolver: FindsOrCreates {
    /// Why a customer could not be resolved.
    struct Failure: Error, Sendable {
        var message: String
        /// The same row would fail the same way (an unknown email with `--no-create-users`, a 400).
        var permanent: Bool
    }

    private let journal: SQLiteJournal
    private let client: CryptlexClient
    let requests: RunRequests
    private let createUsers: Bool
    /// Resolves the organization and reseller a new user goes into.
    private let directory: DirectoryResolver?
    let reconcileDelay: Duration
    private var counters: RunCounters { requests.counters }
    private let logger: Logger
    var once = OnceEach<Result<String, Failure>>()
    /// Customers a batched lookup did not find: their first lookup is skipped.
    private var knownAbsent = Set<Int64>()

    init(
        journal: SQLiteJournal, client: CryptlexClient, requests: RunRequests, createUsers: Bool,
        reconcileDelay: Duration, logger: Logger,
        directory: DirectoryResolver? = nil
    ) {
        self.directory = directory
        self.journal = journal
        self.client = client
        self.requests = requests
        self.createUsers = createUsers
        self.reconcileDelay = reconcileDelay
        self.logger = logger
    }

    /// The user id of customer `id`, resolving it the first time it is asked for.
    func userID(for id: Int64) async -> Result<String, Failure> {
        await resolved(id)
    }

    func resolve(_ id: Int64) async -> Result<String, Failure> {
        let customer: CustomerRecord
        do {
            guard let found = try journal.customer(id: id) else {
                return .failure(Failure(message: "unknown customer", permanent: false))
            }
            customer = found
        } catch {
            return .failure(Failure(message: error.localizedDescription, permanent: false))
        }
        if customer.state == .resolved, let userID = customer.userID { return .success(userID) }
        // Look first: the user may exist already, or a create whose answer was lost may have made it
        // (not when the batched lookup has just found nothing; every later round looks again).
        return await findOrCreate(customer, inFlight: customer.state == .inFlight, lookFirst: !knownAbsent.contains(id))
    }

    func lookUp(_ customer: CustomerRecord, createdByUs: Bool) async -> Result<String?, Failure> {
        let user: User
        switch await findUser(customer.email) {
        case .success(let found?): user = found
        case .success(nil): return .success(nil)
        case .failure(let failure): return .failure(failure)
        }
        if !createdByUs, case .success(let placement) = await placement(of: customer),
            let organizationID = placement.organizationID,
            user.organizationId != organizationID
        {
            logger.warning(
                "the customer exists in another organization; the license is linked to the user as it is",
                metadata: [
                    "email": "\(customer.email)", "user's organization": "\(user.organizationId ?? "none")",
                    "the file's": "\(organizationID)",
                ])
        }
        counters.update {
            $0.usersFound += createdByUs ? 0 : 1
            $0.usersCreated += createdByUs ? 1 : 0
        }
        do {
            try journal.update(customer: customer.id, state: .resolved, userID: user.id, createdByUs: createdByUs)
        } catch {
            return .failure(Failure(message: error.localizedDescription, permanent: false))
        }
        return .success(user.id)
    }

    func creation(of customer: CustomerRecord) async -> Result<Creation<User>, Failure> {
        let id = customer.id
        guard createUsers else {
            let message = "no Cryptlex user has the email \(customer.email), and --no-create-users is set"
            try? journal.update(customer: id, state: .failed, error: message)
            return .failure(Failure(message: message, permanent: true))
        }
        var random = SystemRandomNumberGenerator()
        var request = UserRequest(
            email: customer.email, firstName: Self.firstName(customer), lastName: customer.lastName,
            company: customer.company, password: Self.password(using: &random))
        switch await placement(of: customer) {
        case .success(let placement):
            request.organizationId = placement.organizationID
            request.resellerId = placement.resellerID
        case .failure(let failure):
            return .failure(failure)
        }
        let client = self.client
        let journal = self.journal
        let counters = self.counters
        return .success(
            Creation(
                what: "customer \(customer.email)",
                count: { $0.userRequests += 1 },
                markInFlight: { () throws(JournalError) in try journal.update(customer: id, state: .inFlight) },
                send: { [request] () async throws(APIError) in try await client.createUser(request) },
                recordCreated: { (user: User) throws(JournalError) in
                    counters.update { $0.usersCreated += 1 }
                    try journal.update(customer: id, state: .resolved, userID: user.id, createdByUs: true)
                    return user.id
                },
                recordFailed: { message in try? journal.update(customer: id, state: .failed, error: message) }))
    }

    /// The organization and reseller a customer's new user goes into (resolved, created when new).
    private func placement(of customer: CustomerRecord) async -> Result<
        (organizationID: String?, resellerID: String?), Failure
    > {
        guard let directory else { return .success((nil, nil)) }
        var ids: [String?] = []
        for (ref, noun) in [(customer.organizationRef, "organization"), (customer.resellerRef, "reseller")] {
            guard let ref else {
                ids.append(nil)
                continue
            }
            switch await directory.remoteID(for: ref) {
            case .success(let id): ids.append(id)
            case .failure(let failure):
                return .failure(Failure(message: "\(noun): \(failure.message)", permanent: failure.permanent))
            }
        }
        return .success((ids[0], ids[1]))
    }

    /// Resolves `customers` (not looked up yet) together: `GET /v3/users?email[in]=a,b,…` for a
    /// batch of emails (``RunRequests/listByValues(_:filter:count:_:found:)``), instead of one
    /// lookup each. Found → resolved (not created by licprov); absent → the customer's first
    /// license creates it without another lookup. An email with a comma, every email once the API
    /// refused `in`, and a batch whose request failed are left alone: looked up one by one, as before.
    func resolveTogether(_ customers: [CustomerRecord]) async {
        let waiting = customers.filter {
            once.outcomes[$0.id] == nil && once.waiters[$0.id] == nil && !knownAbsent.contains($0.id)
        }
        let byEmail = Dictionary(grouping: waiting, by: \.email)
        let client = self.client
        // Each email is one user at most: once every email is found, there is no next page.
        let lookup = RunRequests.ByValues<User>(
            batch: { (emails: [String], page: Int) async throws(APIError) in
                try await client.findUsers(emails: emails, page: page)
            }, single: nil, complete: { emails, found in found.count >= emails.count })
        for (emails, found) in await requests.listByValues(
            waiting.map(\.email), filter: "email", count: { $0.userLookups += 1 }, lookup)
        {
            if let found { settle(emails.flatMap { byEmail[$0] ?? [] }, found: found) }
        }
    }

    private func settle(_ batch: [CustomerRecord], found: [User]) {
        let users = Dictionary(
            found.map { (CustomerRecord.key($0.email), $0) }, uniquingKeysWith: { first, _ in first })
        for customer in batch {
            if let user = users[CustomerRecord.key(customer.email)] {
                do {
                    try journal.update(customer: customer.id, state: .resolved, userID: user.id, createdByUs: false)
                } catch { continue }
                counters.update { $0.usersFound += 1 }
                once.outcomes[customer.id] = .success(user.id)
            } else {
                knownAbsent.insert(customer.id)
            }
        }
    }

    /// One lookup by email, through the rate limiter and retried like any read.
    private func findUser(_ email: String) async -> Result<User?, Failure> {
        let client = self.client
        return await requests.read(count: { $0.userLookups += 1 }) { () async throws(APIError) in
            try await client.findUsers(email: email)
        }.map(\.first).mapError { Failure(message: $0.reason, permanent: false) }
    }

    /// Cryptlex requires a first name. Without one, the email's local part stands in
    /// (`ana.silva@example.com` → `ana.silva`): recognisable, and the customer can change it.
    static func firstName(_ customer: CustomerRecord) -> String {
        if let name = customer.firstName, !name.isEmpty { return name }
        return String(customer.email.prefix { $0 != "@" })
    }

    /// 24 random characters: the user must exist with some password; nobody ever sees this one.
    static func password(using random: inout some RandomNumberGenerator) -> String {
        let alphabet = Array("abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789-_!")
        return String((0..<24).map { _ in alphabet.randomElement(using: &random)! })
    }
}

/// How an emulator instance behaves: who may call it, which products exist, its rate limit and
/// the faults it starts with.
public struct EmulatorConfiguration: Sendable {
    /// The bearer token every `/v3` request must carry.
    public var token: String
    /// A token that may read but not write: its POSTs get 403, as a token without the
    /// `license:write` / `user:write` scopes does.
    public var readOnlyToken: String?
    /// Product ids that exist; empty accepts any product id.
    public var products: Set<String>
    /// Requests allowed per window and client IP; nil switches the limit off.
    public var rateLimit: Int?
    /// The rate limit's fixed window, in seconds.
    public var rateWindowSeconds: Int
    /// Where the rate limit's windows lie and which end the headers report.
    public var rateWindowStyle: RateWindowStyle
    /// How far the reported window end may differ between answers of one window, in milliseconds.
    public var rateResetNoiseMilliseconds: Int
    /// List filter operators the emulator refuses with 400, as a server that does not support them
    /// would (`in`, `sw`, …): for rehearsing licprov's fallback to one value a request.
    public var refusedOperators: Set<String>
    /// The faults and latency at start; `PUT /__admin/faults` changes them at run time.
    public var faults: FaultSettings
    /// Seeds fault draws, ids and generated keys.
    public var seed: UInt64

    public init(
        token: String,
        readOnlyToken: String? = nil,
        products: Set<String> = [],
        rateLimit: Int? = 50,
        rateWindowSeconds: Int = 5,
        rateWindowStyle: RateWindowStyle = .grid,
        rateResetNoiseMilliseconds: Int = 0,
        refusedOperators: Set<String> = [],
        faults: FaultSettings = FaultSettings(),
        seed: UInt64 = 1
    ) {
        self.token = token
        self.readOnlyToken = readOnlyToken
        self.products = products
        self.rateLimit = rateLimit
        self.rateWindowSeconds = rateWindowSeconds
        self.rateWindowStyle = rateWindowStyle
        self.rateResetNoiseMilliseconds = rateResetNoiseMilliseconds
        self.refusedOperators = refusedOperators
        self.faults = faults
        self.seed = seed
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

enum System {
    /// Cores this process may use.
    static let coreCount: Int = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
    /// `LICPROV_INGEST_WORKERS`, for measuring the parallel stage against one worker.
    static let workerOverride: Int? = getenv("LICPROV_INGEST_WORKERS").flatMap { Int(String(cString: $0)) }
}

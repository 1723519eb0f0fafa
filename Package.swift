// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "licprov",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "licprov", targets: ["licprov"]),
        .executable(name: "cryptlex-emulator", targets: ["cryptlex-emulator"]),
        .library(name: "CryptlexEmulator", targets: ["CryptlexEmulator"]),
        // The simulation's runner (scripts/simulate.sh); a developer's tool, not shipped.
        .executable(name: "licprov-simulate", targets: ["licprov-simulate"]),
    ],
    dependencies: [
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
    ],
    targets: [
        // MARK: what build this is: VERSION and the commit, read before every build
        .plugin(name: "BuildInfoPlugin", capability: .buildTool()),
        .target(name: "BuildInfo", plugins: ["BuildInfoPlugin"]),

        // MARK: licprov's core: one module per concern, wired together by Provisioning
        .target(name: "CryptlexModels"),
        // Bytes to raw records with their positions: CSV, JSON, NDJSON, .xlsx (over ZIPFoundation).
        .target(name: "FileFormats", dependencies: [.product(name: "ZIPFoundation", package: "ZIPFoundation")]),
        // Raw records to typed, validated rows: mapping, profiles, dates, validation.
        .target(name: "Ingestion", dependencies: ["FileFormats", "CryptlexModels"]),
        .target(name: "Scheduling"),
        .target(name: "Journal", dependencies: ["CryptlexModels", .product(name: "GRDB", package: "GRDB.swift")]),
        .target(
            name: "CryptlexAPI",
            dependencies: [
                "CryptlexModels",
                "Scheduling",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        // How a run talks to the API: the one retry path, lookups by values, paging, the run's counts.
        .target(
            name: "APIRequests",
            dependencies: [
                "CryptlexAPI", "CryptlexModels", "Journal", "Scheduling",
                .product(name: "Logging", package: "swift-log"),
            ]),
        // The results file: its CSV, a journal entry as its line, why a license failed.
        .target(name: "Results", dependencies: ["CryptlexModels", "Journal"]),
        // The run engine: plan a file (or derived rows) against the journal, settle every license, the results.
        .target(
            name: "Provisioning",
            dependencies: [
                "APIRequests", "BuildInfo", "FileFormats", "Ingestion", "Results", "Scheduling", "CryptlexModels",
                "CryptlexAPI", "Journal", .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // What reads a journal and the account: audit, undo's plan, export, the HTML report.
        .target(
            name: "Audit",
            dependencies: [
                "APIRequests", "Provisioning", "Ingestion", "Results", "CryptlexModels", "CryptlexAPI", "Journal",
                "Scheduling",
            ]),
        // plan and apply: a file that is the desired state against the account's managed licenses.
        .target(
            name: "Sync",
            dependencies: [
                "APIRequests", "Provisioning", "Audit", "FileFormats", "Ingestion", "CryptlexModels", "CryptlexAPI",
                "Journal", "Scheduling",
            ]),
        // doctor: an account checked before a first run.
        .target(
            name: "Doctor",
            dependencies: [
                "Provisioning", "CryptlexModels", "CryptlexAPI", "Scheduling",
                .product(name: "Logging", package: "swift-log"),
            ]),

        // pull: the account's licenses as a file (paged from a cursor, resumable, names in batches).
        .target(
            name: "Pull",
            dependencies: [
                "APIRequests", "CryptlexAPI", "CryptlexModels", "FileFormats", "Ingestion",
                .product(name: "Logging", package: "swift-log"),
            ]),

        // MARK: the command-line tool
        .executableTarget(
            name: "licprov",
            dependencies: [
                "APIRequests", "BuildInfo", "Provisioning", "Audit", "Results", "Sync", "Doctor", "Pull", "FileFormats",
                "Ingestion",
                "Journal",
                "Scheduling", "CryptlexModels", "CryptlexAPI",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "TOMLKit", package: "TOMLKit"),
            ]
        ),

        // MARK: the Cryptlex emulator (shares no code with the client on purpose)
        .target(
            name: "CryptlexEmulator",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            resources: [.copy("Resources/cryptlex-v3-subset.json")]
        ),
        .executableTarget(
            name: "cryptlex-emulator",
            dependencies: [
                "CryptlexEmulator", "BuildInfo",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),

        // MARK: tests
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .target(
            name: "EmulatorTransport", dependencies: ["CryptlexAPI", "CryptlexEmulator", "Scheduling", "TestSupport"],
            path: "Tests/EmulatorTransport"),
        // The simulation (scripts/simulate.sh): the engine in process, its processes killed and restarted.
        .target(
            name: "Simulation",
            dependencies: [
                "Audit", "CryptlexAPI", "CryptlexEmulator", "EmulatorTransport", "Ingestion", "Provisioning",
                "Scheduling", "Sync", "TestSupport", .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/Simulation"),
        .executableTarget(
            name: "licprov-simulate",
            dependencies: ["Simulation", .product(name: "Logging", package: "swift-log")],
            path: "Tests/SimulateMain"),
        // The committed test certificates and a CONNECT proxy made by the tests, for the HTTPS path.
        .target(
            name: "TLSTestSupport",
            dependencies: [
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            path: "Tests/TLSTestSupport"
        ),
        .testTarget(name: "SchedulingTests", dependencies: ["Scheduling", "TestSupport"]),
        .testTarget(name: "SimulationTests", dependencies: ["Simulation", "TestSupport"]),
        .testTarget(name: "JournalTests", dependencies: ["Journal", "CryptlexModels", "TestSupport"]),
        .testTarget(
            name: "ProvisioningTests",
            dependencies: [
                "APIRequests", "Results",
                "Provisioning", "Audit", "Sync", "Doctor", "Pull", "Ingestion", "CryptlexModels", "CryptlexAPI",
                "Journal",
                "Scheduling", "CryptlexEmulator", "EmulatorTransport", "TestSupport",
            ]),
        .testTarget(
            name: "IngestionTests",
            dependencies: [
                "Ingestion", "FileFormats", "CryptlexModels", "CryptlexEmulator", "TestSupport",
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ], resources: [.copy("Resources")]),
        .testTarget(
            name: "CryptlexAPITests",
            dependencies: [
                "CryptlexModels", "CryptlexAPI", "CryptlexEmulator", "Scheduling", "TestSupport", "TLSTestSupport",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "CryptlexEmulatorTests",
            dependencies: [
                "CryptlexEmulator",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]
        ),
        // The fixtures are read by path (journals an earlier licprov wrote), not bundled.
        .testTarget(
            name: "EndToEndTests", dependencies: ["licprov", "cryptlex-emulator", "TLSTestSupport"],
            exclude: ["Fixtures"]),
    ]
)

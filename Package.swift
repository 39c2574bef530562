// swift-tools-version:6.2
import PackageDescription

/// Every Swift target imports exactly the modules it uses: a member (a method from an extension, say) is only visible
/// in a file that imports its module (SE-0444), and existential types are spelled `any`.
let strictSwiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "dedup-vitals",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "dedup-vitals", targets: ["dedup-vitals"]),
        // Libraries for the separate Benchmarks/ package.
        .library(name: "DedupVitalsCore", targets: ["DedupVitalsCore"]),
        .library(name: "DedupVitalsServer", targets: ["DedupVitalsServer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird", exact: "2.28.1"),
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
        .package(url: "https://github.com/swift-server/async-http-client", exact: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", exact: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams", exact: "6.2.2"),
        .package(url: "https://github.com/apple/swift-crypto", exact: "4.5.2"),
        .package(url: "https://github.com/apple/swift-http-types", exact: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio", exact: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-extras", exact: "1.35.2"),
        .package(url: "https://github.com/apple/swift-collections", exact: "1.6.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", exact: "2.37.6"),
        .package(url: "https://github.com/x-sheep/swift-property-based", exact: "2.0.1"),
    ],
    targets: [
        // HMAC-SHA-256 with prepared states, for hashing keys per event: its own SHA-256 with the x86 SHA extensions
        // (two messages interleaved), BoringSSL's (swift-crypto's) elsewhere.
        .target(name: "CHMACSHA256"),
        // A cache prefetch hint, which Swift cannot spell, for the key table's batched lookups.
        .target(name: "CPrefetch"),
        // The system zlib, for gzip / deflate request bodies (Content-Encoding).
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // Pure domain: events, validation, windows, ratios, configuration model, rules. No I/O.
        .target(
            name: "DedupVitalsCore",
            dependencies: [
                "CHMACSHA256",
                "CPrefetch",
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "OrderedCollections", package: "swift-collections"),
            ],
            swiftSettings: strictSwiftSettings
        ),
        // SQLite adapter: schema, group commit, recovery.
        .target(
            name: "DedupVitalsStorage",
            dependencies: [
                "DedupVitalsCore",
                "CPrefetch",
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "OrderedCollections", package: "swift-collections"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ],
            swiftSettings: strictSwiftSettings
        ),
        // HTTP adapter, metrics exposition, configuration loading, service wiring.
        .target(
            name: "DedupVitalsServer",
            dependencies: [
                "DedupVitalsCore",
                "DedupVitalsStorage",
                "CZlib",
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "OrderedCollections", package: "swift-collections"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            ],
            // The OpenAPI document, compiled into the binary and served at GET /openapi.json.
            resources: [.embedInCode("HTTP/openapi.json")],
            swiftSettings: strictSwiftSettings
        ),
        // Client side of the JSON API: the `top` dashboard (model, pure frame renderer, keys, terminal I/O) and the
        // `simulate` sender.
        .target(
            name: "DedupVitalsTerminal",
            dependencies: [
                "DedupVitalsCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: strictSwiftSettings
        ),
        // `mcp-guard`: tool-call idempotency in front of an MCP server over stdio. Pure parts (canonical JSON,
        // intent keys, decisions, configuration model) in Core/, the relay, child process, outcome store and
        // reporter in Adapters/.
        .target(
            name: "DedupVitalsMCPGuard",
            dependencies: [
                "DedupVitalsCore",
                "DedupVitalsServer",
                "DedupVitalsTerminal",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: strictSwiftSettings
        ),
        .executableTarget(
            name: "dedup-vitals",
            dependencies: [
                "DedupVitalsCore",
                "DedupVitalsMCPGuard",
                "DedupVitalsServer",
                "DedupVitalsStorage",
                "DedupVitalsTerminal",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSwiftSettings
        ),
        // What every test target shares: temporary directories, the HTTP client, the clock, the in-process service,
        // the child-process runner and the scopes that always tear them down.
        .target(
            name: "DedupVitalsTestSupport",
            dependencies: [
                "DedupVitalsServer",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Tests/DedupVitalsTestSupport"
        ),
        .testTarget(
            name: "DedupVitalsCoreTests",
            dependencies: [
                "DedupVitalsCore",
                "DedupVitalsTestSupport",
                "CHMACSHA256",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "PropertyBased", package: "swift-property-based"),
            ]
        ),
        .testTarget(
            name: "DedupVitalsServerTests",
            dependencies: [
                "DedupVitalsCore",
                "CZlib",
                "DedupVitalsStorage",
                "DedupVitalsServer",
                "DedupVitalsTestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            exclude: ["Golden"]
        ),
        .testTarget(
            name: "DedupVitalsTerminalTests",
            dependencies: [
                "DedupVitalsCore",
                "DedupVitalsTerminal",
                "DedupVitalsTestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "DedupVitalsMCPGuardTests",
            dependencies: [
                "DedupVitalsCore",
                "DedupVitalsMCPGuard",
                "DedupVitalsServer",
                "DedupVitalsTestSupport",
            ]
        ),
        .testTarget(
            name: "DedupVitalsStorageTests",
            dependencies: [
                "DedupVitalsCore",
                "DedupVitalsStorage",
                "DedupVitalsTestSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)

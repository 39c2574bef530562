// swift-tools-version:6.2
import PackageDescription

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
        .package(url: "https://github.com/apple/swift-http-types", from: "1.0.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.24.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.1.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based", exact: "2.0.1"),
    ],
    targets: [
        // HMAC-SHA-256 with prepared states over BoringSSL's SHA-256 (swift-crypto's), for hashing keys per event.
        .target(name: "CHMACSHA256"),
        // Pure domain: events, validation, windows, ratios, configuration model, rules. No I/O.
        .target(
            name: "DedupVitalsCore",
            dependencies: [
                "CHMACSHA256",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "DequeModule", package: "swift-collections"),
            ]
        ),
        // SQLite adapter: schema, group commit, recovery.
        .target(
            name: "DedupVitalsStorage",
            dependencies: [
                "DedupVitalsCore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // HTTP adapter, metrics exposition, configuration loading, service wiring.
        .target(
            name: "DedupVitalsServer",
            dependencies: [
                "DedupVitalsCore",
                "DedupVitalsStorage",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            ]
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
            ]
        ),
        .executableTarget(
            name: "dedup-vitals",
            dependencies: [
                "DedupVitalsCore",
                "DedupVitalsServer",
                "DedupVitalsTerminal",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
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

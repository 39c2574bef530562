// swift-tools-version:6.2
import PackageDescription

// The idempotency middleware for Hummingbird, with its SQLite store, reporting every decision through the
// reporter package next to it. A package of its own so that the reporter stays free of Hummingbird and GRDB.
// See docs/instrumentation-kit.md.
let package = Package(
    name: "HummingbirdIdempotency",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "HummingbirdIdempotency", targets: ["HummingbirdIdempotency"]),
        // Per-request overhead of the middleware and cost of `record`; prints numbers. Build with -c release.
        .executable(name: "idempotency-benchmark", targets: ["IdempotencyBenchmark"]),
    ],
    dependencies: [
        .package(path: "../DedupVitalsReporter"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", exact: "2.28.1"),
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
        .package(url: "https://github.com/apple/swift-http-types", exact: "1.8.0"),
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", exact: "2.13.0"),
        .package(url: "https://github.com/swift-server/async-http-client", exact: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", exact: "2.101.3"),
    ],
    targets: [
        .target(
            name: "HummingbirdIdempotency",
            dependencies: [
                .product(name: "DedupVitalsReporter", package: "DedupVitalsReporter"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "IdempotencyBenchmark",
            dependencies: [
                "HummingbirdIdempotency",
                .product(name: "DedupVitalsReporter", package: "DedupVitalsReporter"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "HummingbirdIdempotencyTests",
            dependencies: [
                "HummingbirdIdempotency",
                .product(name: "DedupVitalsReporter", package: "DedupVitalsReporter"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)

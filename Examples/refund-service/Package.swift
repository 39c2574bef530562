// swift-tools-version:6.2
import PackageDescription

// A refund service made idempotent and observed by the kit in Kit/, plus a client that retries the way real clients
// do. Walkthrough: README.md, "Instrumentation kit".
let package = Package(
    name: "refund-service",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: "../../Kit/HummingbirdIdempotency"),
        .package(path: "../../Kit/DedupVitalsReporter"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", exact: "2.28.1"),
        .package(url: "https://github.com/apple/swift-http-types", exact: "1.8.0"),
        .package(url: "https://github.com/swift-server/async-http-client", exact: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", exact: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", exact: "2.101.3"),
    ],
    targets: [
        .executableTarget(
            name: "refund-demo",
            dependencies: [
                .product(name: "HummingbirdIdempotency", package: "HummingbirdIdempotency"),
                .product(name: "DedupVitalsReporter", package: "DedupVitalsReporter"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)

// swift-tools-version:6.2
import PackageDescription

// Benchmarks and the load generator live in their own package so that the main package's `swift build` and
// `swift test` never build package-benchmark or its dependencies.
//
//   swift package --package-path Benchmarks benchmark          # component benchmarks (package-benchmark)
//   swift build --package-path Benchmarks -c release --product dedup-vitals-load
//   Benchmarks/run-load.sh                                     # end-to-end load against a release service
let package = Package(
    name: "dedup-vitals-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "dedup-vitals", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", exact: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", exact: "0.2.0"),
        .package(url: "https://github.com/apple/swift-collections", exact: "1.6.0"),
    ],
    targets: [
        // Component benchmarks of the hot path: decode, aggregate, render /metrics.
        .executableTarget(
            name: "HotPath",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "DedupVitalsCore", package: "dedup-vitals"),
                .product(name: "DedupVitalsServer", package: "dedup-vitals"),
                .product(name: "OrderedCollections", package: "swift-collections"),
            ],
            path: "Benchmarks/HotPath",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // End-to-end load generator: keep-alive HTTP/1.1 clients on SwiftNIO against a live service.
        .executableTarget(
            name: "dedup-vitals-load",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)

import Foundation

/// Where the built `dedup-vitals` executable is: the one place every test that runs it looks.
public enum ServiceBinary {
    /// `DEDUP_VITALS_BIN` when set; else the executable next to the test bundle (`swift build --build-tests` builds
    /// both into the same folder); else `.build/debug/dedup-vitals` of this package.
    public static var path: String {
        if let override = ProcessInfo.processInfo.environment["DEDUP_VITALS_BIN"], !override.isEmpty { return override }
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        // The XCTest bundle path is .../debug/dedup-vitalsPackageTests.xctest (a file on Linux).
        if directory.lastPathComponent.hasSuffix(".xctest") { directory = directory.deletingLastPathComponent() }
        for candidate in [directory, Bundle.main.bundleURL.deletingLastPathComponent()] {
            let path = candidate.appendingPathComponent("dedup-vitals").path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        // Tests/DedupVitalsTestSupport/ServiceBinary.swift -> the package root.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/dedup-vitals").path
    }
}

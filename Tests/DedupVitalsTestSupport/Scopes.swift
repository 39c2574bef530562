import DedupVitalsServer

/// Starts an in-process service (see ``TestService/start(database:clock:alertingOptions:environment:configure:)``),
/// runs `body` with it and stops it afterwards, also when `body` throws (a failed `#require`, an error on the way):
/// no test leaves a server listening. A test that restarts the service uses one scope per run.
public func withService<Result>(
    database: String, clock: @escaping @Sendable () -> Int64 = DedupVitalsService.systemClock,
    alertingOptions: AlertingOptions? = nil, environment: [String: String] = [:],
    configure: (inout ServiceConfig) -> Void = { _ in },
    _ body: (TestService) async throws -> Result
) async throws -> Result {
    let service = try await TestService.start(
        database: database, clock: clock, alertingOptions: alertingOptions, environment: environment, configure: configure)
    return try await service.scoped(body)
}

/// Starts `executable ARGUMENTS` (by default the built `dedup-vitals`; see ``ChildProcess``), runs `body` with it,
/// then SIGKILLs it if it still runs and waits until it is reaped, also when `body` throws.
public func withProcess<Result>(
    _ arguments: [String], executable: String = ServiceBinary.path, environment: [String: String] = [:],
    logPath: String? = nil,
    _ body: (ChildProcess) async throws -> Result
) async throws -> Result {
    let process = try ChildProcess(arguments, executable: executable, environment: environment, logPath: logPath)
    return try await process.scoped(body)
}

/// Starts `dedup-vitals serve` on a free loopback port with the database at `database`, waits until it listens, runs
/// `body` with it, then SIGKILLs it if it still runs and waits until it is reaped, also when `body` throws.
public func withProcess<Result>(
    serving database: String, logPath: String? = nil, extraArguments: [String] = [], environment: [String: String] = [:],
    _ body: (ChildProcess) async throws -> Result
) async throws -> Result {
    let process = try await ChildProcess(
        database: database, logPath: logPath, extraArguments: extraArguments, environment: environment)
    return try await process.scoped(body)
}

extension ChildProcess {
    /// Runs `body` with this process, then SIGKILLs it if it still runs and waits until it is reaped, also when
    /// `body` throws.
    public func scoped<Result>(
        _ body: (ChildProcess) async throws -> Result
    ) async throws -> Result {
        try await runScoped(self, body, tearDown: { await $0.killAndReap() })
    }
}

/// Runs `body` with `resource`, then `tearDown`, also when `body` throws: then the body's error is thrown and a
/// failing tear-down is not allowed to hide it.
func runScoped<Resource, Result>(
    _ resource: Resource, _ body: (Resource) async throws -> Result,
    tearDown: (Resource) async throws -> Void
) async throws -> Result {
    let result: Result
    do {
        result = try await body(resource)
    } catch {
        try? await tearDown(resource)
        throw error
    }
    try await tearDown(resource)
    return result
}

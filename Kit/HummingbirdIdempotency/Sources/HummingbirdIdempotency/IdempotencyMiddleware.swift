import DedupVitalsReporter
import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// Makes the routes it guards idempotent, as Stripe's API does, and reports every decision to dedup-vitals.
///
/// - A request with an `Idempotency-Key` executes once per key, scope (method, route and caller) and TTL. Retries
///   get the stored status, headers and body with `Idempotent-Replayed: true` (`hit`).
/// - The same key with another request fingerprint (method, path, chosen headers, body) gets 422 (`mismatch`).
/// - A retry while the first attempt runs gets 409, or waits for its result (`in_flight`).
/// - 5xx (and 408/429) responses and thrown errors are not stored: the next attempt executes.
/// - The executing attempt holds a lock that it renews while it runs; a lock left by a crashed worker expires
///   after ``IdempotencyConfiguration/lockTimeout``.
///
/// ```swift
/// let refunds = router.group("refunds")
///     .add(middleware: IdempotencyMiddleware(service: "payments", operation: "refund", store: store, recorder: reporter))
/// refunds.post { request, context in ... }
/// ```
public struct IdempotencyMiddleware<Context: RequestContext>: RouterMiddleware {
    public let service: String
    public let operation: String
    let store: any IdempotencyStore
    let recorder: (any DecisionRecorder)?
    let configuration: IdempotencyConfiguration
    let caller: @Sendable (Request, Context) -> String?

    /// - Parameters:
    ///   - service, operation: the series the decisions are reported under (dedup-vitals' name charset).
    ///   - recorder: where decisions go, normally a `DecisionReporter`; nil reports nothing.
    ///   - caller: who sent the request (an API client, a tenant): keys are scoped by it, and it is reported as
    ///     `client` when it fits dedup-vitals' name charset. Nil means one shared scope.
    public init(
        service: String, operation: String, store: any IdempotencyStore, recorder: (any DecisionRecorder)?,
        configuration: IdempotencyConfiguration = .init(),
        caller: @escaping @Sendable (Request, Context) -> String? = { _, _ in nil }
    ) {
        self.service = service
        self.operation = operation
        self.store = store
        self.recorder = recorder
        self.configuration = configuration
        self.caller = caller
    }

    public func handle(
        _ input: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard let key = input.headers[configuration.headerName] else {
            if configuration.keyRequired { throw IdempotencyError.keyRequired }
            return try await next(input, context)
        }
        guard !key.isEmpty, key.utf8.count <= configuration.maxKeyLength else {
            throw IdempotencyError.invalidKey(maxLength: configuration.maxKeyLength)
        }
        var request = input
        let body = try await request.collectBody(upTo: configuration.maxRequestBodyBytes)
        let caller = self.caller(request, context)
        let route = context.endpointPath ?? request.uri.path
        let decision = Decision(
            service: service, operation: operation, key: key, caller: caller,
            fingerprint: RequestFingerprint.compute(request, body: body, headers: configuration.fingerprintHeaders),
            trace: request.headers[.traceparent].flatMap { TraceContext(traceparent: $0) }, recorder: recorder)
        let storeKey = "\(request.method.rawValue) \(route)\n\(caller ?? "")\n\(key)"
        let token = UUID().uuidString
        var waitDeadline: ContinuousClock.Instant?
        if case .wait(let limit) = configuration.inFlight { waitDeadline = .now + limit }
        var pause = Duration.milliseconds(10)

        while true {
            let now = Self.nowMs()
            let claim = IdempotencyClaim(
                key: storeKey, fingerprint: decision.fingerprint, token: token, nowMs: now,
                lockExpiresAtMs: now + configuration.lockTimeout.inMilliseconds, expiresAtMs: now + configuration.ttl.inMilliseconds)
            let found: BeginResult
            do {
                found = try await store.begin(claim)
            } catch {
                context.logger.error("idempotency store failed", metadata: ["error": "\(error)"])
                throw IdempotencyError.storeUnavailable
            }
            switch found {
            case .mismatch:
                decision.report(.mismatch)
                throw IdempotencyError.reused
            case .completed(let stored, let firstAttemptMs):
                decision.report(.hit, ageMs: now - firstAttemptMs)
                return Self.replay(stored)
            case .inFlight(let firstAttemptMs):
                if let waitDeadline, ContinuousClock.now + pause < waitDeadline {
                    try await Task.sleep(for: pause)
                    pause = min(pause * 2, .milliseconds(200))
                    continue
                }
                decision.report(.inFlight, ageMs: now - firstAttemptMs)
                throw IdempotencyError.inProgress
            case .acquired(let tookOverStaleLock):
                if tookOverStaleLock {
                    context.logger.warning("took over an expired idempotency lock", metadata: ["route": "\(route)"])
                }
                decision.report(.miss)
                return try await execute(request, context: context, next: next, key: storeKey, token: token, decision: decision)
            }
        }
    }

    /// Runs the handler under the lock, then stores what may be replayed.
    private func execute(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response,
        key: String, token: String, decision: Decision
    ) async throws -> Response {
        var response: Response
        do {
            response = try await withLockRenewal(key: key, token: token) { try await next(request, context) }
        } catch let error as any HTTPResponseError where configuration.storesResponse(error.status) {
            response = try error.response(from: request, context: context)
        } catch {
            await release(key: key, token: token, context: context)
            throw error
        }
        guard configuration.storesResponse(response.status) else {
            await release(key: key, token: token, context: context)
            return response
        }
        let body = try await ResponseCapture.collect(&response)
        guard body.readableBytes <= configuration.maxStoredResponseBytes else {
            context.logger.error(
                "response too large to store for idempotent replay; the next attempt executes again",
                metadata: ["bytes": "\(body.readableBytes)", "limit": "\(configuration.maxStoredResponseBytes)"])
            await release(key: key, token: token, context: context)
            return response
        }
        let stored = StoredResponse(
            status: Int(response.status.code),
            headers: response.headers.filter { !ResponseCapture.transferFields.contains($0.name) }
                .map { StoredResponse.Field(name: $0.name.rawName, value: $0.value) },
            body: Array(body.readableBytesView))
        do {
            let now = Self.nowMs()
            if try await store.complete(key: key, token: token, response: stored, expiresAtMs: now + configuration.ttl.inMilliseconds) {
                decision.report(.completed)
            } else {
                context.logger.error("idempotency lock was lost while the request ran; its response is not stored")
            }
        } catch {
            context.logger.error("idempotency store failed to store a response", metadata: ["error": "\(error)"])
        }
        return response
    }

    /// Renews the lock every third of the lock timeout while `operation` runs, so that only a dead worker's lock
    /// expires.
    private func withLockRenewal<T>(key: String, token: String, _ operation: () async throws -> T) async throws -> T {
        let store = self.store
        let timeout = configuration.lockTimeout
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                while true {
                    try await Task.sleep(for: timeout / 3)
                    let until = Self.nowMs() + timeout.inMilliseconds
                    guard (try? await store.extendLock(key: key, token: token, until: until)) != false else { return }
                }
            }
            defer { group.cancelAll() }
            return try await operation()
        }
    }

    private func release(key: String, token: String, context: Context) async {
        do {
            try await store.release(key: key, token: token)
        } catch {
            context.logger.error("idempotency store failed to release a lock; it expires by itself", metadata: ["error": "\(error)"])
        }
    }

    static func replay(_ stored: StoredResponse) -> Response {
        var headers = HTTPFields()
        for field in stored.headers {
            if let name = HTTPField.Name(field.name) { headers.append(HTTPField(name: name, value: field.value)) }
        }
        headers[.idempotentReplayed] = "true"
        return Response(
            status: HTTPResponse.Status(code: stored.status), headers: headers,
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: stored.body)))
    }

    static func nowMs() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded()) }
}

extension Duration {
    var inMilliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}

import DedupVitalsStorage
import Hummingbird

/// `GET /healthz` (the process runs) and `GET /readyz` (the database is open and writable, with room to grow), on
/// every listener: a load balancer in front of `otlp_listen` checks the same readiness as one in front of `listen`.
struct HealthController: Sendable {
    let store: DedupStore

    func addRoutes(to router: Router<DedupRequestContext>) {
        router.get("/healthz") { _, _ in
            ReadController.json(.ok, #"{"status":"ok"}"#)
        }
        router.get("/readyz") { _, _ in
            switch await store.checkReadyAsync() {
            case .success:
                return ReadController.json(.ok, #"{"status":"ready"}"#)
            case .failure(let error):
                return APIError(.serviceUnavailable, code: "not_ready", message: "\(error)", retryAfter: 5).response
            }
        }
    }
}

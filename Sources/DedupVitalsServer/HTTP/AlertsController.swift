import DedupVitalsCore
import Hummingbird

/// `GET /v1/alerts`: pending, firing and recently resolved alert instances.
struct AlertsController: Sendable {
    let alerting: AlertingState

    struct Document: Encodable {
        var alerts: [AlertDocument]
    }

    func addRoutes(to router: Router<DedupRequestContext>) {
        router.get("/v1/alerts") { _, _ in
            let url = alerting.externalURL
            return try ReadController.encode(Document(alerts: alerting.instances.map { AlertDocument($0, externalURL: url) }))
        }
    }
}

import DedupVitalsCore

/// The alerting families of `GET /metrics`: `dedup_alerts_firing`, `dedup_webhook_deliveries_total`,
/// `dedup_webhook_queue_depth`. HELP and TYPE are always written, even without samples.
struct AlertMetricsSection {
    let alerting: AlertingState

    func write(into writer: inout MetricsWriter) {
        writer.family("dedup_alerts_firing", .gauge, "Alert instances now firing (1 per instance).")
        for instance in alerting.instances where instance.state == .firing {
            writer.sample(
                "dedup_alerts_firing",
                [
                    "alertname": instance.key.rule, "service": instance.key.series.service,
                    "operation": instance.key.series.operation, "severity": instance.severity,
                ],
                Int64(1))
        }
        writer.family("dedup_webhook_deliveries_total", .counter, "Notification delivery attempts by receiver and result (success, retry, failed).")
        for receiver in alerting.receivers {
            for result in AlertingState.DeliveryResult.allCases {
                writer.sample(
                    "dedup_webhook_deliveries_total", ["receiver": receiver, "result": result.rawValue],
                    alerting.deliveries(receiver: receiver, result: result))
            }
        }
        writer.family("dedup_webhook_queue_depth", .gauge, "Notifications waiting for delivery, by receiver.")
        for receiver in alerting.receivers {
            writer.sample("dedup_webhook_queue_depth", ["receiver": receiver], Int64(alerting.queueDepth(receiver: receiver)))
        }
    }
}

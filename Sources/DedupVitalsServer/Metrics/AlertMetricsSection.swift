import DedupVitalsCore

/// The alerting families of `GET /metrics`: `dedup_alerts_firing`, `dedup_webhook_deliveries_total`,
/// `dedup_webhook_queue_depth`,
/// `dedup_webhook_delivery_duration_seconds`. HELP and TYPE are always written, even without samples.
struct AlertMetricsSection {
    let alerting: AlertingState

    func write(into writer: inout some MetricsSink) {
        writer.family(MetricsCatalog.alertsFiring)
        for instance in alerting.instances where instance.state == .firing {
            writer.sample(
                MetricsCatalog.alertsFiring,
                [instance.key.rule, instance.key.series.service, instance.key.series.operation, instance.severity], Int64(1))
        }
        writer.family(MetricsCatalog.webhookDeliveries)
        for receiver in alerting.receivers {
            for result in AlertingState.DeliveryResult.allCases {
                writer.sample(
                    MetricsCatalog.webhookDeliveries, [receiver, result.rawValue],
                    alerting.deliveries(receiver: receiver, result: result))
            }
        }
        writer.family(MetricsCatalog.webhookQueueDepth)
        for receiver in alerting.receivers {
            writer.sample(MetricsCatalog.webhookQueueDepth, [receiver], Int64(alerting.queueDepth(receiver: receiver)))
        }
        writer.family(MetricsCatalog.webhookDeliveryDuration)
        let durations = alerting.deliveryDurations
        for receiver in alerting.receivers {
            writer.histogram(
                MetricsCatalog.webhookDeliveryDuration, [receiver],
                durations[receiver] ?? BucketHistogram(bounds: AlertingState.deliveryDurationBounds))
        }
    }
}

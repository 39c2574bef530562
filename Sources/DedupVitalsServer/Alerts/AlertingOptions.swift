import DedupVitalsCore

/// What the alerting part of the service needs beyond ``ServiceConfig``.
public struct AlertingOptions: Sendable {
    /// The loaded rules (see ``AlertRuleLoader``).
    public var rules: [AlertRule]
    /// Signing keys by receiver name (see ``ReceiverSecrets``).
    public var signingKeys: [String: [UInt8]]
    /// Supplies the per-series signals; nil: the live rolling windows (``LiveSignalSource``).
    public var signalSource: (any AlertSignalSource)?
    public var deliveryPolicy: DeliveryPolicy
    /// Random numbers in 0..<1 for retry jitter.
    public var random: @Sendable () -> Double
    /// How often the delivery worker looks for due messages.
    public var deliveryPollInterval: Duration?

    public init(
        rules: [AlertRule], signingKeys: [String: [UInt8]] = [:], signalSource: (any AlertSignalSource)? = nil,
        deliveryPolicy: DeliveryPolicy = DeliveryPolicy(),
        random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) },
        deliveryPollInterval: Duration? = nil
    ) {
        self.rules = rules
        self.signingKeys = signingKeys
        self.signalSource = signalSource
        self.deliveryPolicy = deliveryPolicy
        self.random = random
        self.deliveryPollInterval = deliveryPollInterval
    }
}

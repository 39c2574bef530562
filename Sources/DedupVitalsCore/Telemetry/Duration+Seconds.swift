extension Duration {
    /// The duration in (fractional) seconds, as Prometheus histograms take it.
    public var inSeconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}

/// The version reported by `--version` and `dedup_build_info`.
public enum DedupVitalsVersion {
    public static let current = "0.1.0"
}

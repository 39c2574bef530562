// The shared test kit (Tests/DedupVitalsTestSupport) for every file of this target, without an import of its own.
@_exported import DedupVitalsTestSupport

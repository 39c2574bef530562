#!/usr/bin/env bash
# End-to-end load test of a release-mode dedup-vitals (docs/performance.md). Builds the service and the load
# generator in release mode, then, for each scenario, starts a fresh service on a temp database over loopback, runs
# `dedup-vitals-load` against it (GET /healthz ceiling first, on the same connections) and prints one table row.
#
#   Benchmarks/run-load.sh                 # all scenarios, 10 s each
#   DURATION=5 Benchmarks/run-load.sh      # shorter
#   SKIP_BUILD=1 Benchmarks/run-load.sh    # reuse the release builds
#   SCENARIOS="500 16" LOAD_ARGS="--keys 0" SKIP_METRICS=1 Benchmarks/run-load.sh   # chosen "batch conns" rows,
#                                          # extra generator options, no /metrics row
#   SERIES=20 Benchmarks/run-load.sh      # events spread over 20 series instead of 1,000
#   SKIP_BUILD=1 SERVICE_BIN=/path/to/other/dedup-vitals Benchmarks/run-load.sh   # another build of the service,
#                                          # e.g. the one before a change, for a before/after table in one session
#
# Builds and measurements hold $LOCK (default /tmp/swift-build.lock) so that no other Swift build competes for the CPU.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
lock="${LOCK:-/tmp/swift-build.lock}"
duration="${DURATION:-10}"
warmup="${WARMUP:-2}"
ceiling="${CEILING:-5}"
scratch="$root/.build-release"

# LOCK_HELD=1: the caller already holds the lock (flock is not re-entrant across processes).
with_lock() { if [[ -z "${LOCK_HELD:-}" ]] && command -v flock >/dev/null; then flock "$lock" "$@"; else "$@"; fi; }

if [[ -z "${SKIP_BUILD:-}" ]]; then
  echo "building release (service, then generator)..." >&2
  with_lock swift build -c release --package-path "$root" --scratch-path "$scratch" --product dedup-vitals >&2
  with_lock swift build -c release --package-path "$root/Benchmarks" --product dedup-vitals-load >&2
fi
service_bin="${SERVICE_BIN:-$scratch/release/dedup-vitals}"
load_bin="${LOAD_BIN:-$root/Benchmarks/.build/release/dedup-vitals-load}"

# shellcheck source=Benchmarks/fresh-service.sh
source "$root/Benchmarks/fresh-service.sh"

load() {
  "$load_bin" --target "$target" --pid "$service_pid" --duration "$duration" --warmup "$warmup" \
    --ceiling-seconds "$ceiling" --output row "$@"
}

# Measurements hold the lock too.
if [[ -z "${LOCK_HELD:-}" ]] && command -v flock >/dev/null; then
  exec 9>"$lock"
  flock 9
fi

echo "| scenario | conns | req/s | events/s | p50 ms | p99 ms | p99.9 ms | healthz req/s | ratio | RSS MiB | failures |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
IFS=, read -r -a scenarios <<<"${SCENARIOS:-1 32,1 128,20 32,500 4,500 16}"
for scenario in "${scenarios[@]}"; do
  read -r batch connections <<<"$scenario"
  start_service "$service_bin"
  # shellcheck disable=SC2086 # LOAD_ARGS is a list of options
  load --batch "$batch" --connections "$connections" --series "${SERIES:-1000}" ${LOAD_ARGS:-}
done
[[ -n "${SKIP_METRICS:-}" ]] && exit 0

# 10,000 series, one event each (20 POSTs of 500 distinct series), then GET /metrics on one connection.
start_service "$service_bin"
"$load_bin" --target "$target" --pid "$service_pid" --batch 500 --series 10000 --requests 20 --connections 1 \
  --ceiling-seconds 0 --output text >"$work/seed.txt"
load --mode metrics --connections 1 --ceiling-seconds 0
stop_service
echo
echo "10,000 series created by one event each:$(grep -o ' service RSS.*' "$work/seed.txt")"

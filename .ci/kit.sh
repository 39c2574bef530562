#!/usr/bin/env bash
# Builds and tests the instrumentation kit (Kit/DedupVitalsReporter, Kit/HummingbirdIdempotency) and the example
# (Examples/refund-service), then runs the example against a live dedup-vitals and checks what /metrics counted.
#
#   bash .ci/kit.sh PATH/TO/dedup-vitals
#
# The three packages share one scratch directory (Kit/.build): their common dependencies (SwiftNIO,
# AsyncHTTPClient, ...) are pinned to the same versions, so they compile once instead of once per package.
set -euo pipefail
cd "$(dirname "$0")/.."

bin="${1:?usage: bash .ci/kit.sh PATH/TO/dedup-vitals}"
[ -x "$bin" ] || { echo "kit.sh: $bin is not an executable dedup-vitals" >&2; exit 2; }
export DEDUP_VITALS_BIN="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"
scratch="$PWD/Kit/.build"

echo "== kit: reporter (live tests against $DEDUP_VITALS_BIN)"
swift build --package-path Kit/DedupVitalsReporter --scratch-path "$scratch" --build-tests
swift test --package-path Kit/DedupVitalsReporter --scratch-path "$scratch" --skip-build

echo "== kit: idempotency middleware"
swift build --package-path Kit/HummingbirdIdempotency --scratch-path "$scratch" --build-tests
swift test --package-path Kit/HummingbirdIdempotency --scratch-path "$scratch" --skip-build

echo "== kit: example refund service against dedup-vitals"
swift build --package-path Examples/refund-service --scratch-path "$scratch"
demo="$(swift build --package-path Examples/refund-service --scratch-path "$scratch" --show-bin-path)/refund-demo"
bash Examples/refund-service/check.sh "$DEDUP_VITALS_BIN" "$demo"

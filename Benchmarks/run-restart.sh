#!/usr/bin/env bash
# Restart after a crash under load (docs/performance.md, "Restart"): a fresh service is filled with 1,000,000 tracked
# keys over 10,000 series, then loaded (batches of 500 over 1,000 series and 7 callers, a fresh key on every event)
# and killed with SIGKILL in the middle of it; the time from starting it again to its listening is measured, with
# what it found to replay (aggregate-log rows not folded, key-log rows).
#
#   Benchmarks/run-restart.sh                                  # the release build of this checkout
#   BINS="before=/tmp/old/dedup-vitals after=.build-release/release/dedup-vitals" ROUNDS=3 Benchmarks/run-restart.sh
#   SIGNAL=TERM Benchmarks/run-restart.sh                      # a clean stop under the same load instead of a crash
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
lock="${LOCK:-/tmp/swift-build.lock}"
rounds="${ROUNDS:-1}"
signal="${SIGNAL:-KILL}"
read -r -a bins <<<"${BINS:-this=$root/.build-release/release/dedup-vitals}"
load_bin="${LOAD_BIN:-$root/Benchmarks/.build/release/dedup-vitals-load}"
# shellcheck source=Benchmarks/fresh-service.sh
source "$root/Benchmarks/fresh-service.sh"

if [[ -z "${LOCK_HELD:-}" ]] && command -v flock >/dev/null; then
  exec 9>"$lock"
  flock 9
fi

now_ms() { date +%s%3N; }

echo "| build | round | unfolded aggregate rows | key-log rows | listening again after ms | RSS MiB |"
echo "|---|---:|---:|---:|---:|---:|"
for round in $(seq 1 "$rounds"); do
  for entry in "${bins[@]}"; do
    name="${entry%%=*}"
    bin="${entry#*=}"
    start_service "$bin"
    "$load_bin" --target "$target" --batch 5000 --series 10000 --pool 200 --requests 200 --connections 4 \
      --ceiling-seconds 0 --output text >/dev/null
    "$load_bin" --target "$target" --batch 500 --connections 16 --series 1000 --clients 7 --mix retries --fresh-keys \
      --duration 8 --warmup 0 --ceiling-seconds 0 --output text >/dev/null 2>&1 &
    loader=$!
    sleep 4
    kill -"$signal" "$service_pid"
    wait "$service_pid" 2>/dev/null || true
    service_pid=""
    wait "$loader" 2>/dev/null || true
    unfolded="$(sqlite3 "$work/db.sqlite" "SELECT count(*) FROM aggregate_log" 2>/dev/null || echo -)"
    keylog="$(sqlite3 "$work/db.sqlite" "SELECT count(*) FROM key_log")"
    begin="$(now_ms)"
    "$bin" serve --listen 127.0.0.1:0 --db "$work/db.sqlite" --log-level notice 2>"$work/restart.log" &
    service_pid=$!
    until grep -q 'address=127.0.0.1:' "$work/restart.log"; do sleep 0.01; done
    elapsed=$(($(now_ms) - begin))
    rss="$(awk '/VmRSS/ { printf "%.0f", $2 / 1024 }' "/proc/$service_pid/status")"
    echo "| $name | $round | $unfolded | $keylog | $elapsed | $rss |"
    stop_service
  done
done

#!/usr/bin/env bash
# Starts the built service on a free loopback port, ingests events with curl, and checks /metrics with promtool
# in both exposition formats.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$(swift build --show-bin-path)/dedup-vitals"
work="$(mktemp -d)"
log="$work/serve.log"
"$bin" serve --db "$work/db.sqlite" --listen 127.0.0.1:0 >"$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do
  grep -q 'address=127.0.0.1:' "$log" && break
  sleep 0.1
done
port="$(grep -o 'address=127.0.0.1:[0-9]*' "$log" | head -1 | cut -d: -f2)"
[ -n "$port" ] || { echo "service did not start"; cat "$log"; exit 1; }
url="http://127.0.0.1:$port"

curl -sf -X POST "$url/v1/events" -H 'Content-Type: application/json' -d '[
  {"service":"payments","operation":"refund","outcome":"miss","key":"k1"},
  {"service":"payments","operation":"refund","outcome":"hit","key":"k1","age_ms":250},
  {"service":"payments","operation":"refund","outcome":"completed","key":"k1"},
  {"service":"tickets","operation":"create_ticket","outcome":"in_flight","key":"t1","age_ms":40},
  {"service":"tickets","operation":"create_ticket","outcome":"mismatch","key":"t2"}]' >/dev/null
printf '{"service":"agents","operation":"tool.call","outcome":"miss"}\n{"service":"agents","operation":"tool.call","outcome":"hit"}\n' |
  curl -sf -X POST "$url/v1/events" -H 'Content-Type: application/x-ndjson' --data-binary @- >/dev/null
curl -s -o /dev/null -X POST "$url/v1/events" -H 'Content-Type: application/json' -d '{"service":"bad name"}' || true

curl -sf "$url/metrics" >"$work/metrics.txt"
promtool check metrics <"$work/metrics.txt"
grep -q 'dedup_events_total{service="payments",operation="refund",outcome="hit"} 1' "$work/metrics.txt"
curl -sf -H 'Accept: application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5' "$url/metrics" >"$work/om.txt"
tail -1 "$work/om.txt" | grep -qx '# EOF'
# Every metric the dashboards and Prometheus rules read is one this build exports.
python3 .ci/check-dashboards.py --metrics-url "$url/metrics"
kill -TERM "$pid"
wait "$pid"
echo "metrics e2e: promtool clean, graceful shutdown exit 0"

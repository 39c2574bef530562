#!/usr/bin/env bash
# End-to-end test of the protobuf exposition against the real Prometheus (Debian's 2.42): Prometheus started with
# `--enable-feature=native-histograms` asks /metrics for the protobuf format first, and must store
# dedup_retry_delay_seconds as a native histogram whose count, sum and quantiles match the retries sent, and every
# other family as the text format exports it.
#
#   1. Retries of one series with known delays (0.3 s, 1.2 s, 1.3 s, 45 s; classic buckets (0.25, 0.5], (1, 2.5] twice
#      and (30, 60]): histogram_count 4, histogram_sum 47.8, the median at the (1, 2.5] bucket's upper bound 2.5 and the
#      99th percentile at 60 (native buckets end within 0.3 % above a classic bound); no classic _bucket series.
#   2. Every other family: Prometheus holds the same series as a text scrape of the same instance, with the same
#      values for the families that do not move between two scrapes (the per-series counters and gauges).
#      The dashboards' retry-delay panels have data from the native histogram.
#   3. A second instance with a lean `metrics:` section (one window, no retry delays but for one series): Prometheus
#      holds only what the section selects.
#
# Usage: .ci/e2e-native-histograms.sh [PATH/TO/dedup-vitals]   (default: the binary of `swift build --show-bin-path`)
# Bounded to under 2 minutes; loopback only; every process it starts is stopped by its PID on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
deadline=$((SECONDS + 110))

e2e_name=e2e-native-histograms
# shellcheck source=.ci/e2e-lib.sh
. .ci/e2e-lib.sh
install_missing prometheus curl python3
service_binary "${1:-}"

logged_port() { grep -o 'address=127.0.0.1:[0-9]*' "$work/$1.log" | head -1 | cut -d: -f2; }
has_logged_port() { [ -n "$(logged_port "$1")" ]; }

cat >"$work/lean.yml" <<'EOF_LEAN'
windows: [1m, 5m, 15m, 1h]
metrics:
  windows: [5m]
  retry_delay: false
  series:
    - match: {operation: "refund*"}
      retry_delay: true
EOF_LEAN
"$bin" check-config "$work/lean.yml" >/dev/null || fail "check-config rejects the lean configuration"

"$bin" serve --listen 127.0.0.1:0 --db "$work/a.sqlite" >"$work/a.log" 2>&1 &
pids+=($!)
"$bin" serve --listen 127.0.0.1:0 --db "$work/b.sqlite" --config "$work/lean.yml" >"$work/b.log" 2>&1 &
pids+=($!)
wait_for "instance a to listen" has_logged_port a
wait_for "instance b to listen" has_logged_port b
a="127.0.0.1:$(logged_port a)"
b="127.0.0.1:$(logged_port b)"

# The retries: one miss, then hits carrying age_ms; and a second series without retries. Sent to both instances.
body='[{"service":"payments","operation":"refund","outcome":"miss","key":"k1"},
 {"service":"payments","operation":"refund","outcome":"hit","key":"k1","age_ms":300},
 {"service":"payments","operation":"refund","outcome":"hit","key":"k1","age_ms":1200},
 {"service":"payments","operation":"refund","outcome":"in_flight","key":"k1","age_ms":1300},
 {"service":"payments","operation":"refund","outcome":"hit","key":"k1","age_ms":45000},
 {"service":"tickets","operation":"create","outcome":"miss","key":"t1"}]'
for target in "$a" "$b"; do
  curl -sf -X POST "http://$target/v1/events" -H 'Content-Type: application/json' -d "$body" >/dev/null ||
    fail "POST http://$target/v1/events was refused"
done

# The protobuf answer itself: asked the way Prometheus asks.
accept='application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited,application/openmetrics-text;version=1.0.0;q=0.8,text/plain;version=0.0.4;q=0.5,*/*;q=0.1'
content_type="$(curl -sf -o /dev/null -w '%{content_type}' -H "Accept: $accept" "http://$a/metrics")"
[ "$content_type" = "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited" ] ||
  fail "/metrics answered $content_type to Prometheus' protobuf Accept header"

prom_port="$(free_port)"
prom="http://127.0.0.1:$prom_port"
cat >"$work/prometheus.yml" <<EOF_PROM
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: full
    static_configs: [{targets: ["$a"]}]
  - job_name: lean
    static_configs: [{targets: ["$b"]}]
EOF_PROM
prometheus --config.file "$work/prometheus.yml" --storage.tsdb.path "$work/prom-data" --enable-feature=native-histograms \
  --web.listen-address "127.0.0.1:$prom_port" --log.level=warn >"$work/prometheus.log" 2>&1 &
pids+=($!)
wait_for "Prometheus to be ready" curl -sf -o /dev/null "$prom/-/ready"

# Prints the JSON answer of the instant query $1.
query() { curl -sf --get "$prom/api/v1/query" --data-urlencode "query=$1"; }
# The single value of query $1, or nothing.
value() { query "$1" | python3 -c 'import json, sys; r = json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if len(r) == 1 else "")'; }

scraped() { [ "$(value 'histogram_count(dedup_retry_delay_seconds{job="full",service="payments"})')" = 4 ]; }
wait_for "Prometheus to store the native histogram of instance a (histogram_count 4)" scraped

# --- 1. the native histogram
check() { # NAME QUERY PYTHON-CONDITION-ON-v
  local got
  got="$(value "$2")"
  python3 -c "import sys; v = float(sys.argv[1]); sys.exit(0 if $3 else 1)" "${got:-nan}" ||
    fail "$1: $2 = '${got}', expected $3"
  echo "e2e-native-histograms: $1: $2 = $got"
}
check "count" 'histogram_count(dedup_retry_delay_seconds{job="full",service="payments"})' 'v == 4'
check "sum" 'histogram_sum(dedup_retry_delay_seconds{job="full",service="payments"})' 'abs(v - 47.8) < 1e-9'
check "median at the (1, 2.5] bound" 'histogram_quantile(0.5, dedup_retry_delay_seconds{job="full",service="payments"})' '2.49 < v <= 2.5075'
check "p99 at the (30, 60] bound" 'histogram_quantile(0.99, dedup_retry_delay_seconds{job="full",service="payments"})' '59.8 < v <= 60.18'
check "empty histogram of a series without retries" 'histogram_count(dedup_retry_delay_seconds{job="full",service="tickets"})' 'v == 0'
query 'dedup_retry_delay_seconds{job="full",service="payments"}' | python3 -c '
import json, sys
r = json.load(sys.stdin)["data"]["result"]
assert len(r) == 1 and "histogram" in r[0], r
buckets = r[0]["histogram"][1]["buckets"]
# Three non-empty buckets of schema 8 (boundary rule 0: upper-inclusive), counts 1, 2, 1.
assert [b[3] for b in buckets] == ["1", "2", "1"], buckets
assert all(float(b[2]) / float(b[1]) < 1.003 for b in buckets), buckets
print("e2e-native-histograms: native buckets stored:", [(round(float(b[1]), 3), round(float(b[2]), 3), b[3]) for b in buckets])
' || fail "the stored native histogram does not have the expected sparse buckets"
[ -z "$(query 'dedup_retry_delay_seconds_bucket{job="full"}' | python3 -c 'import json, sys; print(json.load(sys.stdin)["data"]["result"] or "")')" ] ||
  fail "classic _bucket series were stored next to the native histogram"

# The shipped dashboards' retry-delay panels read the native histogram when there are no classic buckets (each
# expression is "classic or native"): every one of them has data here.
dashboards_show_native() {
  python3 .ci/check-dashboards.py --prometheus-url "$prom" --var job=full --var service=payments --var operation=refund \
    --require-data dedup_retry_delay_seconds >"$work/dashboards.log" 2>&1
}
wait_for "every retry-delay panel of the dashboards to have data from the native histogram" dashboards_show_native
echo "e2e-native-histograms: $(tail -n 1 "$work/dashboards.log")"

# --- 2. every other family as the text format exports it
curl -sf "http://$a/metrics" >"$work/a.txt" || fail "text scrape of instance a"
curl -sf --get "$prom/api/v1/series" --data-urlencode 'match[]={job="full"}' >"$work/series.json"
python3 - "$work/a.txt" "$work/series.json" "$prom" <<'PY' || fail "Prometheus' series differ from the text exposition"
import json, re, sys, urllib.parse, urllib.request
text, series, prom = open(sys.argv[1]).read(), json.load(open(sys.argv[2]))["data"], sys.argv[3]
line = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
label = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
def key(name, labels):
    # Prometheus 2.42 writes the le of a protobuf bucket as OpenMetrics does ("1.0"), of a text one as sent ("1").
    labels = {k: (repr(float(v)) if k == "le" and v != "+Inf" else v) for k, v in labels.items()}
    return name + "{" + ",".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}"
expected = {}
for raw in text.splitlines():
    m = line.match(raw)
    if not m:
        continue
    name, labels = m.group(1), dict(label.findall(m.group(2) or ""))
    if name.startswith("dedup_retry_delay_seconds"):
        name = "dedup_retry_delay_seconds"  # one native series replaces _bucket, _sum and _count
        labels.pop("le", None)
    expected[key(name, labels)] = m.group(3)
stored = {}
for s in series:
    name = s.pop("__name__")
    if name == "up" or name.startswith("scrape_"):
        continue
    s.pop("job"); s.pop("instance")
    stored[key(name, s)] = True
missing, extra = sorted(set(expected) - set(stored)), sorted(set(stored) - set(expected))
print(f"e2e-native-histograms: {len(stored)} series stored from the protobuf scrape, {len(expected)} in the text format")
if missing or extra:
    print("missing:", missing[:10], "extra:", extra[:10])
    sys.exit(1)
# Values of the per-series families, which do not move between the two scrapes.
stable = ("dedup_events_total", "dedup_attempts", "dedup_duplicate_ratio", "dedup_in_flight_keys", "dedup_tracked_keys")
checked = 0
for k, v in expected.items():
    if not k.startswith(stable):
        continue
    q = urllib.parse.quote(k.replace("{", '{job="full",', 1))
    result = json.load(urllib.request.urlopen(f"{prom}/api/v1/query?query={q}"))["data"]["result"]
    if len(result) != 1 or float(result[0]["value"][1]) != float(v):
        print("value differs:", k, v, result)
        sys.exit(1)
    checked += 1
print(f"e2e-native-histograms: {checked} per-series samples have the value of the text format")
PY

# --- 3. the lean instance: one window, and the retry-delay histogram only for refund*
lean_ok() {
  [ "$(value 'count(dedup_attempts{job="lean"})')" = 2 ] &&
    [ "$(value 'count(dedup_attempts{job="lean",window="5m"})')" = 2 ] &&
    [ "$(value 'histogram_count(dedup_retry_delay_seconds{job="lean",operation="refund"})')" = 4 ] &&
    [ -z "$(value 'count(dedup_retry_delay_seconds{job="lean",service="tickets"})')" ]
}
wait_for "the lean instance to export one window and one retry-delay histogram" lean_ok
echo "e2e-native-histograms: the lean instance exports window 5m only and the retry delays of refund only"

echo "e2e-native-histograms: passed in ${SECONDS}s"

#!/usr/bin/env bash
# End-to-end test against the real programs: two dedup-vitals instances, a Prometheus scraping both every second
# with the rules of alerts/prometheus loaded, an Alertmanager, and a local webhook receiver behind it.
#
#   1. A duplicate spike is fed to ONE instance (the other reports normal traffic of the same series): the global
#      recording rule must show the ratio summed across both instances, the Prometheus alert must fire for that
#      series only, and the Alertmanager must deliver its notification to the webhook receiver.
#   2. dedup-vitals' own `kind: alertmanager` receiver: instance A posts its own alert to the same Alertmanager,
#      which must list it and deliver it to the webhook receiver. Skipped, with a message, while `check-config`
#      does not know the receiver `kind` key yet.
#   3. A double execution with trace context: Prometheus (with exemplar storage) stores the OpenMetrics exemplar of
#      dedup_double_executions_total with its trace id, and dedup-vitals' own `double_execution` alert reaches the
#      Alertmanager with the trace id as an annotation and in a templated one (`{{ $trace_id }}`).
#
# Usage: .ci/e2e-prometheus.sh [PATH/TO/dedup-vitals]   (default: the binary of `swift build --show-bin-path`)
# Bounded to under 3 minutes; loopback only; every process it starts is stopped by its PID on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
deadline=$((SECONDS + 170))

e2e_name=e2e-prometheus
# shellcheck source=.ci/e2e-lib.sh
. .ci/e2e-lib.sh
install_missing prometheus prometheus-alertmanager curl python3
service_binary "${1:-}"

# Starts a dedup-vitals instance NAME with extra serve arguments; prints nothing, records the PID.
start_instance() {
  local name="$1"
  shift
  "$bin" serve --listen 127.0.0.1:0 --db "$work/$name.sqlite" "$@" >"$work/$name.log" 2>&1 &
  pids+=($!)
}

logged_port() { grep -o 'address=127.0.0.1:[0-9]*' "$work/$1.log" | head -1 | cut -d: -f2; }
has_logged_port() { [ -n "$(logged_port "$1")" ]; }

# POSTs NAME COUNT pairs of outcomes for one series to an instance, as one JSON array.
post_events() {
  local url="$1" service="$2" operation="$3"
  shift 3
  python3 - "$service" "$operation" "$@" <<'PY' >"$work/body.json"
import json, sys
service, operation, rest = sys.argv[1], sys.argv[2], sys.argv[3:]
events = []
for outcome, count in zip(rest[0::2], rest[1::2]):
    events += [{"service": service, "operation": operation, "outcome": outcome}] * int(count)
print(json.dumps(events))
PY
  curl -sf -X POST "$url/v1/events" -H 'Content-Type: application/json' --data-binary @"$work/body.json" >/dev/null ||
    fail "POST $url/v1/events ($service/$operation $*) was refused"
}

# Prints the instant-query result of PromQL $1 as lines "label=value,... VALUE", sorted.
prom_query() {
  curl -sf --get "$prom/api/v1/query" --data-urlencode "query=$1" | python3 -c '
import json, sys
result = json.load(sys.stdin)["data"]["result"]
for r in result:
    print(",".join(f"{k}={v}" for k, v in sorted(r["metric"].items())), r["value"][1])' | sort
}

# --- webhook receiver: $work/hook.jsonl
start_hook

# --- Alertmanager: everything to the webhook receiver, grouped per alert and series, without waiting.
am_port="$(free_port)"
am="http://127.0.0.1:$am_port"
cat >"$work/alertmanager.yml" <<EOF
route:
  receiver: hook
  group_by: [alertname, service, operation]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs:
      - url: $hook/
EOF
amtool check-config "$work/alertmanager.yml" >/dev/null || fail "amtool rejects the generated alertmanager.yml"
prometheus-alertmanager --config.file "$work/alertmanager.yml" --storage.path "$work/am-data" \
  --web.listen-address "127.0.0.1:$am_port" --cluster.listen-address= --log.level=warn >"$work/alertmanager.log" 2>&1 &
pids+=($!)

# --- dedup-vitals' own rule and Alertmanager receiver (part 2), if this build knows the receiver kind.
cat >"$work/own-rules.yml" <<'EOF'
rules:
  - alert: E2EOwnDuplicateSpike
    kind: duplicate_ratio
    window: 1m
    above: 0.10
    min_attempts: 10
    for: 0s
    labels: {severity: warning}
    annotations: {summary: "dedup-vitals' own rule saw a duplicate spike"}
  - alert: E2EOwnDoubleExecution
    kind: double_execution
    window: 5m
    for: 0s
    labels: {severity: critical}
    annotations: {trace_url: "https://tempo.example/trace/{{ $trace_id }}"}
EOF
cat >"$work/own.yml" <<EOF
evaluation_interval: 1s
rule_files: [own-rules.yml]
receivers:
  - {name: am, kind: alertmanager, url: "$am"}
EOF
own=1
if ! "$bin" check-config "$work/own.yml" >"$work/check-config.out" 2>&1; then
  if grep -Eq 'receivers.*kind|kind.*receiver' "$work/check-config.out"; then
    own=0
    echo "e2e-prometheus: SKIP part 2 (dedup-vitals' own alertmanager receiver): this build rejects the receiver kind:"
    sed 's/^/  /' "$work/check-config.out"
  else
    fail "check-config rejected the part 2 configuration: $(cat "$work/check-config.out")"
  fi
fi

# --- two dedup-vitals instances
if [ "$own" = 1 ]; then start_instance a --config "$work/own.yml"; else start_instance a; fi
start_instance b
wait_for "instance a to listen" has_logged_port a
wait_for "instance b to listen" has_logged_port b
a="http://127.0.0.1:$(logged_port a)"
b="http://127.0.0.1:$(logged_port b)"

# --- Prometheus: scrapes both every second, the recording rules, the alerting rules with every `for` set to 0s but
# that of DedupVitalsWebhookQueueGrowing: part 2's own notification is a queue of one for a scrape or two, and that
# rule's `for` is what tells a growing queue from a delivery in progress.
prom_port="$(free_port)"
prom="http://127.0.0.1:$prom_port"
awk '/- alert:/ { keep = ($3 == "DedupVitalsWebhookQueueGrowing") }
  !keep && /^[[:space:]]+for:/ { sub(/for:.*/, "for: 0s") } { print }' \
  alerts/prometheus/dedup-vitals.alerts.yml >"$work/alerts-test.yml"
cat >"$work/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - $PWD/alerts/prometheus/dedup-vitals.rules.yml
  - $work/alerts-test.yml
alerting:
  alertmanagers:
    - static_configs:
        - targets: ["127.0.0.1:$am_port"]
scrape_configs:
  - job_name: dedup-vitals
    static_configs:
      - targets: ["127.0.0.1:$(logged_port a)", "127.0.0.1:$(logged_port b)"]
EOF
promtool check config "$work/prometheus.yml" >/dev/null || fail "promtool rejects the generated prometheus.yml"
prometheus --config.file "$work/prometheus.yml" --storage.tsdb.path "$work/prom-data" --enable-feature=exemplar-storage \
  --web.listen-address "127.0.0.1:$prom_port" --log.level=warn >"$work/prometheus.log" 2>&1 &
pids+=($!)
wait_for "Alertmanager to be ready" curl -sf -o /dev/null "$am/-/ready"
wait_for "Prometheus to be ready" curl -sf -o /dev/null "$prom/-/ready"

# --- the series exist (at zero attempts) before the spike, so that rate() sees the whole spike as an increase.
post_events "$a" payments refund completed 1
post_events "$b" payments refund completed 1
post_events "$a" tickets create completed 1
both_scraped() {
  [ "$(prom_query 'count(dedup_events_total{service="payments",operation="refund",outcome="hit"})' | cut -d' ' -f2)" = 2 ] &&
    [ -n "$(prom_query 'dedup_events_total{service="tickets",operation="create",outcome="hit"}')" ]
}
wait_for "Prometheus to scrape both instances" both_scraped
sleep 2

# --- the spike: instance a sees 60 hits and 20 misses, instance b 20 misses of the same series. Globally:
# 60 / (60 + 20 + 20) = 0.6 (instance a alone would say 0.75). tickets/create stays at 2 / 62, below every threshold.
post_events "$a" payments refund hit 60 miss 20
post_events "$b" payments refund miss 20
post_events "$a" tickets create miss 60 hit 2
spike_scraped() {
  [ "$(prom_query 'sum(dedup_events_total{service="payments",operation="refund",outcome=~"hit|miss"})' | cut -d' ' -f2)" = 100 ]
}
wait_for "Prometheus to scrape the spike" spike_scraped

ratio_query='service_operation:dedup_duplicate_ratio:rate5m{service="payments",operation="refund"}'
global_ratio_ok() {
  prom_query "$ratio_query" >"$work/ratio.log"
  # One global series (no instance label) with 0.6, give or take rate()'s per-instance extrapolation.
  [ "$(wc -l <"$work/ratio.log")" = 1 ] && ! grep -q 'instance=' "$work/ratio.log" &&
    python3 -c 'import sys; v = float(open(sys.argv[1]).read().split()[-1]); sys.exit(0 if abs(v - 0.6) < 0.03 else 1)' \
      "$work/ratio.log"
}
wait_for "the global recording rule to read 0.6 +- 0.03 (last answer in ratio.log)" global_ratio_ok
echo "e2e-prometheus: global duplicate ratio over both instances: $(cat "$work/ratio.log")"

prom_alert_firing() {
  curl -sf "$prom/api/v1/alerts" >"$work/prom-alerts.json" &&
    python3 - "$work/prom-alerts.json" <<'PY'
import json, sys
alerts = json.load(open(sys.argv[1]))["data"]["alerts"]
spikes = [a for a in alerts if a["labels"]["alertname"] == "DedupVitalsDuplicateRatioSpike" and a["state"] == "firing"]
sys.exit(0 if any(a["labels"].get("service") == "payments" and a["labels"].get("operation") == "refund" for a in spikes) else 1)
PY
}
wait_for "Prometheus to fire DedupVitalsDuplicateRatioSpike" prom_alert_firing
python3 - "$work/prom-alerts.json" <<'PY' || fail "an alert fires that should not"
import json, sys
alerts = json.load(open(sys.argv[1]))["data"]["alerts"]
firing = sorted({(a["labels"]["alertname"], a["labels"].get("service", "")) for a in alerts if a["state"] == "firing"})
print("e2e-prometheus: Prometheus alerts firing:", firing)
wrong = [f for f in firing if f[1] == "tickets" or not f[0].startswith("DedupVitalsDuplicateRatio")]
sys.exit(1 if wrong else 0)
PY

# Prints "yes" when the webhook receiver got a notification of alert $1 for service payments.
hook_has() {
  python3 - "$work/hook.jsonl" "$1" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    body = json.loads(line)["body"]
    for alert in body.get("alerts", []):
        if alert["labels"].get("alertname") == sys.argv[2] and alert["labels"].get("service") == "payments":
            sys.exit(0)
sys.exit(1)
PY
}
wait_for "Alertmanager to deliver DedupVitalsDuplicateRatioSpike to the webhook receiver" hook_has DedupVitalsDuplicateRatioSpike
echo "e2e-prometheus: Alertmanager delivered DedupVitalsDuplicateRatioSpike to the webhook receiver"

# Every rule evaluates without error on real data (matching errors only show up at evaluation), and so does every
# dashboard expression.
curl -sf "$prom/api/v1/rules" | python3 -c '
import json, sys
rules = [r for g in json.load(sys.stdin)["data"]["groups"] for r in g["rules"]]
bad = [(r["name"], r.get("lastError")) for r in rules if r["health"] != "ok"]
print(f"e2e-prometheus: {len(rules)} rules loaded, unhealthy: {bad}")
sys.exit(1 if bad or len(rules) < 20 else 0)' || fail "rules are missing or fail to evaluate in Prometheus"
python3 .ci/check-dashboards.py --prometheus-url "$prom" --var job=dedup-vitals --var service=payments \
  --var operation=refund || fail "a dashboard or rule expression fails on the live Prometheus"

if [ "$own" = 1 ]; then
  am_has_own() {
    curl -sf --get "$am/api/v2/alerts" --data-urlencode 'filter=alertname="E2EOwnDuplicateSpike"' | grep -q '"payments"'
  }
  wait_for "dedup-vitals' own alert to reach Alertmanager (/api/v2/alerts)" am_has_own
  wait_for "Alertmanager to deliver dedup-vitals' own alert to the webhook receiver" hook_has E2EOwnDuplicateSpike
  echo "e2e-prometheus: dedup-vitals posted E2EOwnDuplicateSpike to Alertmanager, which delivered it"
fi

# --- a double execution with trace context: Prometheus stores the exemplar that leads to the request that ran twice,
# and dedup-vitals' own double_execution alert reaches Alertmanager with the trace id in its annotations.
trace_first=4bf92f3577b34da6a3ce929d0e0e4736
trace_second=0af7651916cd43dd8448eb211c80319c
cat >"$work/double.json" <<EOF
[{"service":"payments","operation":"refund","outcome":"miss","key":"order-e2e","trace_id":"$trace_first"},
 {"service":"payments","operation":"refund","outcome":"completed","key":"order-e2e"},
 {"service":"payments","operation":"refund","outcome":"miss","key":"order-e2e","trace_id":"$trace_second","span_id":"b7ad6b7169203331"}]
EOF
curl -sf -X POST "$a/v1/events" -H 'Content-Type: application/json' --data-binary @"$work/double.json" >/dev/null ||
  fail "the double execution was refused"
exemplar_stored() {
  curl -sf --get "$prom/api/v1/query_exemplars" --data-urlencode 'query=dedup_double_executions_total{service="payments"}' \
    --data-urlencode "start=$(($(date +%s) - 600))" --data-urlencode "end=$(($(date +%s) + 60))" >"$work/exemplars.json" &&
    grep -q "\"trace_id\":\"$trace_second\"" "$work/exemplars.json"
}
wait_for "Prometheus to store the double execution's exemplar (last answer in exemplars.json)" exemplar_stored
echo "e2e-prometheus: Prometheus stored the exemplar of dedup_double_executions_total: trace_id=$trace_second"
if [ "$own" = 1 ]; then
  am_has_trace() {
    curl -sf --get "$am/api/v2/alerts" --data-urlencode 'filter=alertname="E2EOwnDoubleExecution"' >"$work/am-double.json" &&
      python3 - "$work/am-double.json" "$trace_second" <<'PY'
import json, sys
alerts, trace = json.load(open(sys.argv[1])), sys.argv[2]
sys.exit(0 if any(a["annotations"].get("trace_id") == trace
                  and a["annotations"].get("trace_url") == "https://tempo.example/trace/" + trace for a in alerts) else 1)
PY
  }
  wait_for "the double-execution alert with its trace id to reach Alertmanager (last answer in am-double.json)" am_has_trace
  echo "e2e-prometheus: dedup-vitals' double_execution alert reached Alertmanager with annotation trace_id=$trace_second"
fi

echo "e2e-prometheus: passed in ${SECONDS}s"

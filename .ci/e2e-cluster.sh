#!/usr/bin/env bash
# End-to-end test of the reference deployment of docs/scaling.md with the real programs: three dedup-vitals instances
# behind HAProxy running deploy/haproxy/haproxy.cfg unchanged, Prometheus running deploy/prometheus/prometheus.yml and
# an Alertmanager running deploy/prometheus/alertmanager.yml (targets, receiver URLs and timings replaced for
# loopback and a fast test), and a webhook receiver behind the Alertmanager.
#
#   1. `simulate --fleets 8` sends a retry storm over 32 services through the proxy: every series lands on exactly one
#      instance (and every service on one instance), the global recording-rule ratio in Prometheus equals the ratio
#      of the events sent, per series and overall; a double execution sent through the proxy in two requests is
#      detected and shown by /v1/keys/lookup through the proxy.
#   2. While a plain HTTP client keeps sending, one instance is killed (SIGKILL): HAProxy marks it down within its
#      check interval, only its services move (each to one other instance), the client sees only retryable errors
#      (502/503/504 with Retry-After) and no acknowledged event is lost; Prometheus' DedupVitalsDown fires and the
#      Alertmanager's notification reaches the receiver.
#   3. The instance is started again on its database: HAProxy marks it up, its services come back to it, its history
#      (series totals, open keys) is intact, and no false double execution was recorded anywhere.
#
# Usage: .ci/e2e-cluster.sh [PATH/TO/dedup-vitals]   (default: the binary of `swift build --show-bin-path`)
# Bounded to under 3 minutes; loopback only; every process it starts is stopped by its PID on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
deadline=$((SECONDS + 170))

e2e_name=e2e-cluster
# shellcheck source=.ci/e2e-lib.sh
. .ci/e2e-lib.sh
install_missing haproxy prometheus prometheus-alertmanager curl python3
service_binary "${1:-}"
pass() { echo "$e2e_name: PASS: $*"; }

client() { python3 .ci/cluster_client.py "$@"; }

# Substitutes literal strings in a reference file: substitute FILE OUT FROM TO [FROM TO ...]; each FROM must occur.
substitute() {
  python3 - "$@" <<'PY' || fail "$1 no longer has the shape this test adapts (see the message above)"
import sys
source, out, pairs = sys.argv[1], sys.argv[2], sys.argv[3:]
text = open(source).read()
for old, new in zip(pairs[0::2], pairs[1::2]):
    if old not in text:
        sys.exit(f"{source}: expected text not found: {old}")
    text = text.replace(old, new)
open(out, "w").write(text)
PY
}

# --- webhook receiver behind the Alertmanager: $work/hook.jsonl
start_hook

# --- three dedup-vitals instances on fixed ports (a restart must come back on the same address)
declare -A port pid
start_instance() {
  "$bin" serve --listen "127.0.0.1:${port[$1]}" --db "$work/$1.sqlite" >>"$work/$1.log" 2>&1 &
  pid[$1]=$!
  pids+=($!)
}
ready() { curl -sf -o /dev/null "http://127.0.0.1:${port[$1]}/readyz"; }
for i in dv1 dv2 dv3; do
  port[$i]="$(free_port)"
  start_instance "$i"
done
for i in dv1 dv2 dv3; do wait_for "instance $i to be ready" ready "$i"; done

# --- Alertmanager: the reference configuration, with both receivers pointed at the webhook receiver and no waiting.
am_port="$(free_port)"
am="http://127.0.0.1:$am_port"
substitute deploy/prometheus/alertmanager.yml "$work/alertmanager.yml" \
  http://oncall.example.internal:9000/alertmanager "$hook/oncall" \
  http://pager.example.internal:9000/alertmanager "$hook/pager" \
  'group_wait: 30s' 'group_wait: 1s' 'group_interval: 5m' 'group_interval: 1s'
amtool check-config "$work/alertmanager.yml" >/dev/null || fail "amtool rejects the adapted alertmanager.yml"
prometheus-alertmanager --config.file "$work/alertmanager.yml" --storage.path "$work/am-data" \
  --web.listen-address "127.0.0.1:$am_port" --cluster.listen-address= --log.level=warn >"$work/alertmanager.log" 2>&1 &
pids+=($!)

# --- HAProxy: the reference configuration unchanged; addresses through its environment variables.
proxy_port="$(free_port)"
admin_port="$(free_port)"
proxy="http://127.0.0.1:$proxy_port"
export DEDUP_VITALS_PROXY_BIND="127.0.0.1:$proxy_port" DEDUP_VITALS_PROXY_ADMIN="127.0.0.1:$admin_port"
export DEDUP_VITALS_1="127.0.0.1:${port[dv1]}" DEDUP_VITALS_2="127.0.0.1:${port[dv2]}" DEDUP_VITALS_3="127.0.0.1:${port[dv3]}"
haproxy -c -q -f deploy/haproxy/haproxy.cfg || fail "haproxy -c rejects deploy/haproxy/haproxy.cfg"
haproxy -db -f deploy/haproxy/haproxy.cfg >"$work/haproxy.log" 2>&1 &
pids+=($!)

# --- Prometheus: the reference configuration with loopback targets, 1 s intervals, every alert's `for` at 0s.
prom_port="$(free_port)"
prom="http://127.0.0.1:$prom_port"
sed -E 's/^([[:space:]]+for:).*/\1 0s/' alerts/prometheus/dedup-vitals.alerts.yml >"$work/alerts-test.yml"
substitute deploy/prometheus/prometheus.yml "$work/prometheus.yml" \
  'scrape_interval: 15s' 'scrape_interval: 1s' 'evaluation_interval: 15s' 'evaluation_interval: 1s' \
  ../../alerts/prometheus/dedup-vitals.rules.yml "$PWD/alerts/prometheus/dedup-vitals.rules.yml" \
  ../../alerts/prometheus/dedup-vitals.alerts.yml "$work/alerts-test.yml" \
  '[alertmanager-1:9093, alertmanager-2:9093]' "[\"127.0.0.1:$am_port\"]" \
  '[dedup-vitals-1:9470, dedup-vitals-2:9470, dedup-vitals-3:9470]' "[\"$DEDUP_VITALS_1\", \"$DEDUP_VITALS_2\", \"$DEDUP_VITALS_3\"]" \
  '[haproxy:8404]' "[\"$DEDUP_VITALS_PROXY_ADMIN\"]"
promtool check config deploy/prometheus/prometheus.yml >/dev/null || fail "promtool rejects deploy/prometheus/prometheus.yml"
promtool check config "$work/prometheus.yml" >/dev/null || fail "promtool rejects the adapted prometheus.yml"
prometheus --config.file "$work/prometheus.yml" --storage.tsdb.path "$work/prom-data" \
  --web.listen-address "127.0.0.1:$prom_port" --log.level=warn >"$work/prometheus.log" 2>&1 &
pids+=($!)

# Prints the instant-query result of PromQL $1 as lines "label=value,... VALUE", sorted.
prom_query() {
  curl -sf --get "$prom/api/v1/query" --data-urlencode "query=$1" | python3 -c '
import json, sys
for r in json.load(sys.stdin)["data"]["result"]:
    print(",".join(f"{k}={v}" for k, v in sorted(r["metric"].items())), r["value"][1])' | sort
}
prom_value() { prom_query "$1" | awk 'NR == 1 { print $NF }'; }

# HAProxy's view of one server (dedup-vitals-1..3): UP, DOWN, "UP 1/2", ...
proxy_status() {
  curl -sf "http://$DEDUP_VITALS_PROXY_ADMIN/stats;csv" | python3 -c '
import csv, sys
rows = csv.DictReader(line.lstrip("# ") for line in sys.stdin)
print(next(r["status"] for r in rows if r["svname"] == sys.argv[1]))' "$1"
}
proxy_says() { [ "$(proxy_status "$1")" = "$2" ]; }

wait_for "Alertmanager to be ready" curl -sf -o /dev/null "$am/-/ready"
wait_for "Prometheus to be ready" curl -sf -o /dev/null "$prom/-/ready"
for n in 1 2 3; do wait_for "HAProxy to see dedup-vitals-$n up" proxy_says "dedup-vitals-$n" UP; done
all_up() { [ "$(prom_value 'count(up == 1)')" = 4 ]; }
wait_for "Prometheus to scrape the three instances and HAProxy" all_up
pass "3 instances behind HAProxy (deploy/haproxy/haproxy.cfg), Prometheus and Alertmanager (deploy/prometheus/) up"

# --- the proxy's own answers: a request without a shard key is refused, never spread round-robin.
code="$(curl -s -o "$work/noshard.json" -w '%{http_code}' -X POST "$proxy/v1/events" -H 'Content-Type: application/json' \
  -d '{"service":"payments","operation":"refund","outcome":"miss"}')"
[ "$code" = 400 ] && grep -q '"missing_shard_key"' "$work/noshard.json" || fail "POST without X-Dedup-Shard answered $code: $(cat "$work/noshard.json")"
code="$(curl -s -o "$work/badshard.json" -w '%{http_code}' -X POST "$proxy/v1/events" -H 'X-Dedup-Shard: a b' -d '{}')"
[ "$code" = 400 ] && grep -q '"invalid_shard_key"' "$work/badshard.json" || fail "an invalid X-Dedup-Shard answered $code"
curl -sf -o /dev/null "$proxy/readyz" || fail "the proxy's /readyz is not 200 with three instances up"
pass "requests without a valid shard key get 400 missing_shard_key / invalid_shard_key from the proxy"

# --- 1. Mixed traffic of many services through the proxy.
# The simulated series (5 per fleet copy: TrafficModel.series) exist at zero attempts before the storm, so that
# rate() sees the whole storm as an increase; then Prometheus must have scraped them.
python3 - >"$work/series.txt" <<'PY'
base = [("payments", "refund"), ("payments", "capture"), ("tickets", "create_ticket"), ("agents", "tool.call"),
        ("email", "send_receipt")]
for fleet in range(1, 9):
    for service, operation in base:
        print(f"{service}-{fleet} {operation}")
PY
cut -d' ' -f1 "$work/series.txt" | sort -u >"$work/services.txt"
while read -r service operation; do
  client send "$proxy" "$service" "$operation" completed || fail "pre-creating $service/$operation through the proxy"
done <"$work/series.txt"
created_scraped() { [ "$(prom_value 'count(dedup_events_total{outcome="hit"})')" = "$(wc -l <"$work/series.txt")" ]; }
wait_for "Prometheus to scrape the 40 pre-created series" created_scraped
sleep 2

timeout 60 "$bin" simulate --url "$proxy" --scenario retry-storm --fleets 8 --rate 800 --duration 8 --seed 7 \
  >"$work/simulate.out" 2>"$work/simulate.log" || fail "simulate through the proxy failed: $(cat "$work/simulate.out" "$work/simulate.log")"
read -r sent accepted rejected < <(sed -E 's/.*sent ([0-9]+) events.*accepted ([0-9]+), rejected ([0-9]+),.*/\1 \2 \3/' "$work/simulate.out")
[ "$sent" -gt 4000 ] && [ "$accepted" = "$sent" ] && [ "$rejected" = 0 ] || fail "simulate: $(cat "$work/simulate.out")"

# Every instance's /v1/summary, as {"dv1": {"service/operation": {...series...}}, ...} in $work/$1.json.
snapshot() {
  local name="$1" i
  shift
  for i in "$@"; do curl -sf "http://127.0.0.1:${port[$i]}/v1/summary" >"$work/summary-$i.json" || fail "GET /v1/summary of $i"; done
  python3 - "$work" "$name" "$@" <<'PY'
import json, sys
work, name, instances = sys.argv[1], sys.argv[2], sys.argv[3:]
out = {}
for i in instances:
    series = json.load(open(f"{work}/summary-{i}.json"))["series"]
    out[i] = {f'{s["service"]}/{s["operation"]}': s for s in series}
json.dump(out, open(f"{work}/{name}.json", "w"))
PY
}
snapshot placed dv1 dv2 dv3

python3 - "$work" "$sent" <<'PY' || fail "events of a series or service landed on more than one instance (above)"
import json, sys
work, sent = sys.argv[1], int(sys.argv[2])
placed = json.load(open(f"{work}/placed.json"))
expected = {"/".join(line.split()) for line in open(f"{work}/series.txt")}
where, owner, total = {}, {}, 0
for instance, series in placed.items():
    for name, s in series.items():
        where.setdefault(name, []).append(instance)
        owner.setdefault(s["service"], set()).add(instance)
        t = s["totals"]
        total += t["miss"] + t["hit"] + t["in_flight"] + t["completed"] + t["mismatch"]
split = {name: i for name, i in where.items() if len(i) != 1}
split_services = {s: sorted(i) for s, i in owner.items() if len(i) != 1}
print(f"e2e-cluster: {len(where)} series of {len(owner)} services; services per instance:",
      {i: sum(1 for o in owner.values() if o == {i}) for i in placed})
if set(where) != expected:
    sys.exit(f"series on the instances differ from the simulated ones: {sorted(set(where) ^ expected)}")
if total != sent + len(expected):
    sys.exit(f"the instances hold {total} events, sent were {sent} + {len(expected)} pre-created")
if split or split_services:
    sys.exit(f"split series: {split}, split services: {split_services}")
if any(not any(o == {i} for o in owner.values()) for i in placed):
    sys.exit("an instance owns no service: the shard test below would prove nothing")
json.dump({s: sorted(o)[0] for s, o in owner.items()}, open(f"{work}/owner.json", "w"))
PY
pass "simulate sent $sent events of 40 series (32 services) through the proxy, all accepted; every series and every service is on exactly one instance"

# The global recording rule against the counts that were sent (each stored exactly once, checked above).
all_scraped() { [ "$(prom_value 'sum(dedup_events_total)')" = "$((sent + $(wc -l <"$work/series.txt")))" ]; }
wait_for "Prometheus to scrape every event" all_scraped
sleep 3
prom_query 'service_operation:dedup_duplicate_ratio:rate5m' >"$work/ratio.txt"
prom_value 'sum(service_operation:dedup_duplicates:rate5m) / sum(service_operation:dedup_attempts:rate5m)' >"$work/global.txt"
python3 - "$work" <<'PY' || fail "the recording rule's ratio differs from the ratio sent (above)"
import json, sys
work = sys.argv[1]
placed = json.load(open(f"{work}/placed.json"))
sent, dup, att = {}, 0, 0
for series in placed.values():
    for name, s in series.items():
        t = s["totals"]
        attempts, duplicates = t["miss"] + t["hit"] + t["in_flight"] + t["mismatch"], t["hit"] + t["in_flight"]
        sent[name] = duplicates / attempts
        dup, att = dup + duplicates, att + attempts
prom = {}
for line in open(f"{work}/ratio.txt"):
    labels, value = line.rsplit(" ", 1)
    l = dict(kv.split("=", 1) for kv in labels.split(","))
    if "instance" in l:
        sys.exit(f"the recording rule kept an instance label: {line}")
    prom[f'{l["service"]}/{l["operation"]}'] = float(value)
worst = max(sent, key=lambda n: abs(prom.get(n, -1) - sent[n]))
deviation = abs(prom.get(worst, -1) - sent[worst])
global_prom = float(open(f"{work}/global.txt").read())
print(f"e2e-cluster: duplicate ratio sent {dup}/{att} = {dup / att:.4f}, Prometheus global {global_prom:.4f}; "
      f"per series: largest deviation {deviation:.2e} ({worst}: sent {sent[worst]:.4f}, Prometheus {prom.get(worst)})")
if set(prom) != set(sent) or deviation > 1e-6 or abs(global_prom - dup / att) > 0.005:
    sys.exit("mismatch")
PY
pass "service_operation:dedup_duplicate_ratio:rate5m equals the ratio sent for all 40 series; the global ratio too (above)"

# A double execution sent through the proxy: the same key misses in two separate requests.
client send "$proxy" ledger post miss:txn-1 completed:txn-1 || fail "posting the first execution"
sleep 0.2
client send "$proxy" ledger post miss:txn-1 completed:txn-1 || fail "posting the second execution"
lookup="$(curl -sf --get "$proxy/v1/keys/lookup" --data-urlencode service=ledger --data-urlencode operation=post --data-urlencode key=txn-1)" ||
  fail "GET /v1/keys/lookup through the proxy"
python3 -c 'import json, sys; t = json.loads(sys.argv[1]); sys.exit(0 if t["executions"] == 2 and t["counts"]["miss"] == 2 else 1)' "$lookup" ||
  fail "/v1/keys/lookup through the proxy does not show two executions: $lookup"
double_seen() { [ "$(prom_value 'sum(dedup_double_executions_total{service="ledger",operation="post"})')" = 1 ]; }
wait_for "Prometheus to count the double execution" double_seen
pass "a double execution sent through the proxy in two requests is detected (dedup_double_executions_total 1; lookup through the proxy: executions 2)"

# --- 2. Failover: a plain HTTP client keeps sending while dv2, the owner of some services, is killed.
victim=dv2
victim_addr="$DEDUP_VITALS_2"
python3 -c 'import json, sys; o = json.load(open(sys.argv[1])); print("\n".join(s for s in sorted(o) if o[s] == "dv2"))' \
  "$work/owner.json" >"$work/moved.txt"
# Keys whose first attempt reaches the victim before it fails; their retries will reach the instance taking over.
while read -r service; do
  client send "$proxy" "$service" moved "miss:open-$service" || fail "posting an open key of $service"
done <"$work/moved.txt"

client load "$proxy" failover "$work/services.txt" "$work/stop" "$work/load.json" 4 2>"$work/load.log" &
load_pid=$!
pids+=($load_pid)
sleep 2
t0="$(date +%s.%N)"
kill -KILL "${pid[$victim]}"
wait "${pid[$victim]}" 2>/dev/null || true
wait_for "HAProxy to mark dedup-vitals-2 down" proxy_says dedup-vitals-2 DOWN
down_after="$(python3 -c "import time; print(f'{time.time() - $t0:.2f}')")"
python3 -c "import sys; sys.exit(0 if $down_after <= 3.5 else 1)" ||
  fail "HAProxy marked dedup-vitals-2 down after ${down_after}s (checks every 1s, down after 2 failures: at most ~2s)"
pass "dedup-vitals-2 killed; HAProxy marked it DOWN after ${down_after}s (inter 1s, fall 2)"

# The retries of the open keys reach the instance that took over the service: not a double execution there.
while read -r service; do
  client send "$proxy" "$service" moved "hit:open-$service" || fail "posting a retry of $service's open key during the failover"
done <"$work/moved.txt"

down_delivered() {
  python3 - "$work/hook.jsonl" "$victim_addr" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    request = json.loads(line)
    for alert in request["body"].get("alerts", []):
        if (alert["labels"].get("alertname") == "DedupVitalsDown" and alert["labels"].get("instance") == sys.argv[2]
                and alert["status"] == "firing" and request["path"] == "/pager"):
            sys.exit(0)
sys.exit(1)
PY
}
wait_for "Alertmanager to deliver DedupVitalsDown for $victim_addr to the pager receiver" down_delivered
pass "Prometheus fired DedupVitalsDown for $victim_addr; Alertmanager delivered it to the critical (pager) receiver after $(python3 -c "import time; print(f'{time.time() - $t0:.1f}')")s"

sleep 2
touch "$work/stop"
wait_for "the load client to finish" test -s "$work/load.json"
snapshot during dv1 dv3

python3 - "$work" <<'PY' || fail "services moved that should not have, or a moved service is split (above)"
import json, sys
work = sys.argv[1]
owner, during = json.load(open(f"{work}/owner.json")), json.load(open(f"{work}/during.json"))
holders = {}
for instance, series in during.items():
    for s in series.values():
        if s["operation"] in ("failover", "moved"):
            holders.setdefault(s["service"], set()).add(instance)
wrong = {}
for service, home in owner.items():
    seen = holders.get(service, set())
    if home != "dv2" and seen != {home}:
        wrong[service] = f"owned by {home}, events during the failover on {sorted(seen)}"
    if home == "dv2" and len(seen) != 1:
        wrong[service] = f"moved from dv2 to {sorted(seen)} (expected exactly one instance)"
moved = sorted(s for s, o in owner.items() if o == "dv2")
print(f"e2e-cluster: {len(moved)} services moved from dv2:",
      {s: sorted(holders.get(s, []))[0] if holders.get(s) else None for s in moved})
sys.exit(f"{wrong}" if wrong else 0)
PY
pass "only dv2's services moved, each to one surviving instance; the other $(($(wc -l <"$work/services.txt") - $(wc -l <"$work/moved.txt"))) services stayed where they were"

# --- 3. dv2 starts again on its database.
start_instance "$victim"
wait_for "dv2 to be ready again" ready "$victim"
wait_for "HAProxy to mark dedup-vitals-2 up again" proxy_says dedup-vitals-2 UP
# Its services come back: new events of every service land on the owner of phase 1.
while read -r service; do
  client send "$proxy" "$service" after_restart miss:back completed:back || fail "posting $service after the restart"
done <"$work/services.txt"
while read -r service; do
  client send "$proxy" "$service" moved "completed:open-$service" || fail "completing $service's open key"
done <"$work/moved.txt"
snapshot after dv1 dv2 dv3

python3 - "$work" <<'PY' || fail "after the restart (above)"
import json, sys
work = sys.argv[1]
owner, placed, after = (json.load(open(f"{work}/{n}.json")) for n in ("owner", "placed", "after"))
load = json.load(open(f"{work}/load.json"))
problems = []
# Services are back home.
for service, home in owner.items():
    seen = {i for i, series in after.items() if f"{service}/after_restart" in series}
    if seen != {home}:
        problems.append(f"{service}: after the restart on {sorted(seen)}, owned by {home}")
# dv2's history is intact: every series it held has the same totals as before it was killed.
for name, s in placed["dv2"].items():
    if after["dv2"].get(name, {}).get("totals") != s["totals"]:
        problems.append(f"dv2 lost history of {name}")
# Open keys of moved services: the first attempt is on dv2 (which got the completion after returning), the retry
# during the failover on the instance that took over. No double execution anywhere but the deliberate one.
doubles = {f"{i}:{n}": s["double_executions"] for i, series in after.items() for n, s in series.items() if s["double_executions"]}
if doubles != {f"{next(i for i in after if 'ledger/post' in after[i])}:ledger/post": 1}:
    problems.append(f"double executions other than the deliberate one: {doubles}")
# No acknowledged event lost: per service, acked <= stored <= acked + events whose acknowledgement was uncertain.
lost, extra = {}, {}
for service, acked in load["acked"].items():
    stored = 0
    for series in after.values():
        t = series.get(f"{service}/failover", {}).get("totals")
        if t:
            stored += t["miss"] + t["hit"] + t["in_flight"] + t["completed"] + t["mismatch"]
    if stored < acked:
        lost[service] = acked - stored
    if stored > acked + load["uncertain"][service]:
        extra[service] = stored - acked
statuses = load["statuses"]
print(f"e2e-cluster: load client: {load['batches']} batches acknowledged, {sum(load['acked'].values())} events; answers: {statuses};"
      f" events with an uncertain first attempt: {sum(load['uncertain'].values())}")
if lost:
    problems.append(f"acknowledged events lost: {lost}")
if extra:
    problems.append(f"events stored more often than they could have been: {extra}")
if load["bad"]:
    problems.append(f"non-retryable answers: {load['bad'][:5]}")
if not any(code in statuses for code in ("502", "503", "504")):
    problems.append("the load client saw no error at all: the failover window was not exercised")
sys.exit("\n".join(problems) if problems else 0)
PY
for service in $(cat "$work/moved.txt"); do
  t="$(curl -sf --get "$proxy/v1/keys/lookup" --data-urlencode "service=$service" --data-urlencode operation=moved \
    --data-urlencode "key=open-$service")" || fail "looking up $service's open key through the proxy"
  python3 -c 'import json, sys; t = json.loads(sys.argv[1]); c = t["counts"]
sys.exit(0 if t["state"] == "completed" and c["miss"] == 1 and c["completed"] == 1 and c["hit"] == 0 else 1)' "$t" ||
    fail "the open key of $service after the restart: $t"
done
pass "dv2 back UP: its services returned to it, its history is intact, and its open keys were completed there"
pass "no acknowledged event was lost, the client saw only retryable 502/503/504, no false double execution (above)"

echo "e2e-cluster: passed in ${SECONDS}s"

#!/usr/bin/env bash
# Aggregate ingest through HAProxy (deploy/haproxy/haproxy.cfg) with 1, 2 and 3 release-mode dedup-vitals instances,
# next to direct ingest into as many instances, on this machine. One table row per setup.
#
# N load generators (Benchmarks/Sources/dedup-vitals-load) run at the same time, one service each. Direct rows: the
# i-th generator sends straight to instance i. Proxy rows: each sends through HAProxy, with its shard header, a service
# that the proxy's consistent hash maps to a different instance (found by probing). A row sums the generators'
# events/s and shows the worst p99. Connections are split between the generators, so every row offers the same total
# concurrency. Everything (instances, HAProxy, generators) shares the machine's cores: the figures say what the proxy
# costs and how far one machine goes, not how N machines scale.
#
#   Benchmarks/run-cluster.sh                    # batch 500 with a key per event, 16 connections, 10 s per row
#   BATCH=20 CONNECTIONS=32 Benchmarks/run-cluster.sh
#   LOAD_ARGS="--keys 0" SKIP_BUILD=1 DURATION=5 Benchmarks/run-cluster.sh
#
# Builds and measurements hold $LOCK (default /tmp/swift-build.lock) so that no Swift build competes for the CPU.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
lock="${LOCK:-/tmp/swift-build.lock}"
duration="${DURATION:-10}"
warmup="${WARMUP:-2}"
batch="${BATCH:-500}"
connections="${CONNECTIONS:-16}"
series="${SERIES:-1000}"
scratch="$root/.build-release"

with_lock() { if [[ -z "${LOCK_HELD:-}" ]] && command -v flock >/dev/null; then flock "$lock" "$@"; else "$@"; fi; }

command -v haproxy >/dev/null || { echo "run-cluster: haproxy is not installed (apt-get install haproxy)" >&2; exit 1; }
if [[ -z "${SKIP_BUILD:-}" ]]; then
  echo "building release (service, then generator)..." >&2
  with_lock swift build -c release --package-path "$root" --scratch-path "$scratch" --product dedup-vitals >&2
  with_lock swift build -c release --package-path "$root/Benchmarks" --product dedup-vitals-load >&2
fi
service_bin="$scratch/release/dedup-vitals"
load_bin="$root/Benchmarks/.build/release/dedup-vitals-load"

work="$(mktemp -d)"
pids=()
stop_all() {
  local p
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  pids=()
}
trap 'stop_all; rm -rf "$work"' EXIT

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# Starts N fresh instances on new databases (ports in $port_1..), and HAProxy in front of them when $2 = proxy.
# Unused server lines of the configuration point at a closed port and are marked down before the run.
start_setup() {
  local n="$1" i
  stop_all
  rm -rf "$work"/db* "$work"/*.log
  for i in 1 2 3; do
    declare -g "port_$i=$(free_port)"
  done
  for ((i = 1; i <= n; i++)); do
    local p="port_$i"
    "$service_bin" serve --listen "127.0.0.1:${!p}" --db "$work/db$i.sqlite" --log-level notice 2>"$work/dv$i.log" &
    pids+=($!)
    for _ in $(seq 1 100); do curl -sf -o /dev/null "http://127.0.0.1:${!p}/readyz" && break; sleep 0.1; done
  done
  [[ "$2" == proxy ]] || return 0
  proxy_port="$(free_port)"
  admin_port="$(free_port)"
  DEDUP_VITALS_PROXY_BIND="127.0.0.1:$proxy_port" DEDUP_VITALS_PROXY_ADMIN="127.0.0.1:$admin_port" \
    DEDUP_VITALS_1="127.0.0.1:$port_1" DEDUP_VITALS_2="127.0.0.1:$port_2" DEDUP_VITALS_3="127.0.0.1:$port_3" \
    haproxy -db -f "$root/deploy/haproxy/haproxy.cfg" >"$work/haproxy.log" 2>&1 &
  pids+=($!)
  # Wait until HAProxy's checks agree: servers 1..n UP, the others DOWN.
  for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$admin_port/stats;csv" 2>/dev/null | python3 -c '
import csv, sys
n = int(sys.argv[1])
rows = {r["svname"]: r["status"] for r in csv.DictReader(l.lstrip("# ") for l in sys.stdin)}
want = {f"dedup-vitals-{i}": ("UP" if i <= n else "DOWN") for i in (1, 2, 3)}
sys.exit(0 if all(rows.get(k) == v for k, v in want.items()) else 1)' "$n" && return 0
    sleep 0.2
  done
  echo "run-cluster: HAProxy did not see the expected servers up and down" >&2
  exit 1
}

# Prints n service names, the i-th of which the proxy routes to instance i (probed with one event each).
services_per_instance() {
  python3 - "$1" "$proxy_port" "$port_1" "$port_2" "$port_3" <<'PY'
import http.client, json, sys
n, proxy, ports = int(sys.argv[1]), int(sys.argv[2]), [int(p) for p in sys.argv[3:]]
def request(port, method, path, body=None, headers={}):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    c.request(method, path, body=body, headers=headers)
    r = c.getresponse()
    r.read()
    return r.status
found = {}
for k in range(1000):
    service = f"bench{k}"
    event = json.dumps({"service": service, "operation": "probe", "outcome": "completed"})
    assert request(proxy, "POST", "/v1/events", event, {"Content-Type": "application/json", "X-Dedup-Shard": service}) == 202
    owner = next(i for i in range(n) if request(ports[i], "GET", f"/v1/series?service={service}&operation=probe&window=1m&step=1m") == 200)
    found.setdefault(owner, service)
    if len(found) == n:
        break
print(" ".join(found[i] for i in range(n)))
PY
}

# Runs one generator per service at the same time against $1 (HOST:PORT, or `direct`: the i-th generator straight
# at instance i); prints one Markdown row labelled $2.
measure() {
  local target="$1" label="$2"
  shift 2
  local services=("$@") each=$((connections / $#)) i=0 service generators=() g target_i
  for service in "${services[@]}"; do
    [[ "$target" == direct ]] && { local p="port_$((i + 1))"; target_i="127.0.0.1:${!p}"; } || target_i="$target"
    # shellcheck disable=SC2086 # LOAD_ARGS is a list of options
    "$load_bin" --target "$target_i" --service "$service" --header "X-Dedup-Shard: $service" --batch "$batch" \
      --connections "$each" --series "$((series / $#))" --duration "$duration" --warmup "$warmup" --ceiling-seconds 0 \
      --output row ${LOAD_ARGS:-} >"$work/row$i.txt" &
    generators+=($!)
    i=$((i + 1))
  done
  for g in "${generators[@]}"; do
    wait "$g" || { echo "run-cluster: a generator failed" >&2; cat "$work"/row*.txt >&2; exit 1; }
  done
  python3 - "$label" "$connections" "$work"/row*.txt <<'PY'
import sys
label, conns, files = sys.argv[1], sys.argv[2], sys.argv[3:]
rows = [[c.strip() for c in open(f).read().strip().strip("|").split("|")] for f in files]
events = sum(float(r[3]) for r in rows)
requests = sum(float(r[2]) for r in rows)
p99 = max(float(r[5]) for r in rows)
failures = sum(int(r[10]) for r in rows)
print(f"| {label} | {conns} | {requests:.0f} | {events:.0f} | {p99:.2f} | {failures} |")
PY
  rm -f "$work"/row*.txt
}

if [[ -z "${LOCK_HELD:-}" ]] && command -v flock >/dev/null; then
  exec 9>"$lock"
  flock 9
fi

echo "batch $batch, $connections connections in total, $series series in total, ${duration}s per row ${LOAD_ARGS:+($LOAD_ARGS)}"
echo
echo "| setup | conns | req/s | events/s | worst p99 ms | failures |"
echo "|---|---:|---:|---:|---:|---:|"
for n in 1 2 3; do
  start_setup "$n" direct
  measure direct "direct, $n instance(s)" $(seq -f 'bench%g' 1 "$n")
  start_setup "$n" proxy
  read -r -a names <<<"$(services_per_instance "$n")"
  measure "127.0.0.1:$proxy_port" "HAProxy, $n instance(s)" "${names[@]}"
done

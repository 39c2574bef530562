#!/usr/bin/env bash
# What one GET /metrics costs at many series, per format and configuration (docs/performance.md#scrape).
#
# For each binary given (default: the release build in .build-release), and each configuration (the default, and
# the lean `metrics:` section below when the binary knows it), starts a service on a temp database over loopback,
# creates SERIES series, then scrapes /metrics in each format the binary serves: the text format 0.0.4, OpenMetrics,
# and the protobuf format when the binary answers it. Per row: bytes of one scrape, the samples Prometheus stores from
# it (Benchmarks/scrape_stats.py), the wall time of a scrape as curl sees it (request to last byte, median and p90
# over all scrapes), and the service's CPU time per scrape (from /proc/PID/stat; the median over the rounds). All the
# services run at once and the rows are measured in turn, ROUNDS rounds of SCRAPES sequential scrapes each, so that
# rows compare within one run even on a shared machine.
#
#   Benchmarks/run-scrape.sh                                  # this tree's release build
#   Benchmarks/run-scrape.sh /tmp/base/dedup-vitals .build-release/release/dedup-vitals   # before and after
#   SERIES=10000 SCRAPES=30 SEED=retries Benchmarks/run-scrape.sh   # each series also with three retries
#
# SEED=one (default): one event per series, as Benchmarks/run-load.sh's /metrics row. SEED=retries: per series a miss
# and three hits with age_ms 400, 7,000 and 90,000 ms, so that three retry-delay buckets of each series are non-empty.
# Measurements hold $LOCK (default /tmp/swift-build.lock) so that no Swift build competes for the CPU.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=Benchmarks/listen-address.sh
. "$root/Benchmarks/listen-address.sh"
lock="${LOCK:-/tmp/swift-build.lock}"
series="${SERIES:-10000}"
scrapes="${SCRAPES:-10}"
rounds="${ROUNDS:-5}"
seed="${SEED:-one}"
[[ $# -gt 0 ]] || set -- "$root/.build-release/release/dedup-vitals"

if [[ -z "${LOCK_HELD:-}" ]] && command -v flock >/dev/null; then
  exec 9>"$lock"
  flock 9
fi

work="$(mktemp -d)"
pids=()
stop_services() {
  local pid
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap 'stop_services; rm -rf "$work"' EXIT

# The lean configuration of docs/performance.md#scrape: one window of the per-window gauges, no retry-delay histogram.
cat >"$work/lean.yml" <<'YAML'
limits: {max_series: 100000}
metrics:
  windows: [5m]
  retry_delay: false
YAML
echo "limits: {max_series: 100000}" >"$work/default.yml"

# The seed bodies: 500 events each.
python3 - "$series" "$seed" "$work" <<'PY'
import json, sys
series, seed, work = int(sys.argv[1]), sys.argv[2], sys.argv[3]
events = []
for i in range(series):
    op = f"op{i}"
    if seed == "retries":
        events.append({"service": "bench", "operation": op, "outcome": "miss", "key": f"k{i}"})
        for age in (400, 7000, 90000):
            events.append({"service": "bench", "operation": op, "outcome": "hit", "key": f"k{i}", "age_ms": age})
    else:
        events.append({"service": "bench", "operation": op, "outcome": ["miss", "hit", "in_flight", "completed"][i % 4]})
for n in range(0, len(events), 500):
    with open(f"{work}/seed-{n // 500:05d}.json", "w") as f:
        json.dump(events[n:n + 500], f)
PY

# Starts a service of BIN with CONFIG on a database of its own and seeds it; prints "PID HOST:PORT".
start_service() { # BIN CONFIG NAME
  local dir="$work/$3" pid target
  mkdir -p "$dir"
  "$1" serve --listen 127.0.0.1:0 --db "$dir/db.sqlite" --config "$2" --log-level notice 2>"$dir/service.log" &
  pid=$!
  target="$(listen_address "$dir/service.log")"
  for body in "$work"/seed-*.json; do
    curl -sf -X POST "http://$target/v1/events" -H 'Content-Type: application/json' --data-binary @"$body" >/dev/null
  done
  echo "$pid $target"
}

declare -A accept=(
  [text]="text/plain;version=0.0.4"
  [openmetrics]="application/openmetrics-text;version=1.0.0"
  [protobuf]="application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited"
)
ticks_per_second="$(getconf CLK_TCK)"

# Every service runs for the whole measurement; the rows are measured in turn, ROUNDS times, so that a change in the
# machine's load (it is shared) reaches every row alike.
rows=()
declare -A pid_of target_of
n=0
for bin in "$@"; do
  for config in default lean; do
    if [[ $config == lean ]] && ! "$bin" check-config "$work/lean.yml" >/dev/null 2>&1; then continue; fi
    n=$((n + 1))
    read -r pid target < <(start_service "$bin" "$work/$config.yml" "service$n")
    pids+=("$pid")
    for format in text openmetrics protobuf; do
      type="$(curl -sf -o "$work/body" -w '%{content_type}' -H "Accept: ${accept[$format]}" "http://$target/metrics")"
      if [[ $format == protobuf && $type != application/vnd.google.protobuf* ]]; then continue; fi
      row="$bin|$config|$format"
      rows+=("$row")
      pid_of[$row]=$pid
      target_of[$row]=$target
      read -r samples _ < <(python3 "$root/Benchmarks/scrape_stats.py" "$([[ $format == protobuf ]] && echo protobuf || echo text)" <"$work/body")
      echo "$(stat -c %s "$work/body") $samples" >"$work/size-$n-$format"
      ln -sf "$work/size-$n-$format" "$work/size-${#rows[@]}"
      for _ in 1 2 3; do curl -sf -o /dev/null -H "Accept: ${accept[$format]}" "http://$target/metrics"; done
    done
  done
done

for round in $(seq 1 "$rounds"); do
  for i in "${!rows[@]}"; do
    row="${rows[$i]}"
    format="${row##*|}"
    before="$(awk '{ print $14 + $15 }' "/proc/${pid_of[$row]}/stat")"
    for _ in $(seq 1 "$scrapes"); do
      curl -sf -o /dev/null -w '%{time_total}\n' -H "Accept: ${accept[$format]}" "http://${target_of[$row]}/metrics" >>"$work/times-$i"
    done
    after="$(awk '{ print $14 + $15 }' "/proc/${pid_of[$row]}/stat")"
    echo "$(( (after - before) ))" >>"$work/ticks-$i"
  done
done

echo "| binary | config | format | bytes | samples | p50 ms | p90 ms | CPU ms/scrape |"
echo "|---|---|---|---:|---:|---:|---:|---:|"
for i in "${!rows[@]}"; do
  IFS='|' read -r bin config format <<<"${rows[$i]}"
  read -r bytes samples <"$work/size-$((i + 1))"
  python3 - "$work/times-$i" "$work/ticks-$i" "$bin" "$config" "$format" "$bytes" "$samples" "$ticks_per_second" "$scrapes" <<'PY'
import statistics, sys
times = sorted(float(t) * 1000 for t in open(sys.argv[1]))
ticks = [int(t) for t in open(sys.argv[2])]
bin, config, fmt, size, samples, hz, n = sys.argv[3:]
p50, p90 = statistics.median(times), times[int(0.9 * (len(times) - 1))]
# CPU per scrape: the median over the rounds, each round's ticks over its scrapes.
cpu = statistics.median(t / int(hz) * 1000 / int(n) for t in ticks)
print(f"| {bin} | {config} | {fmt} | {int(size):,} | {int(samples):,} | {p50:.1f} | {p90:.1f} | {cpu:.1f} |")
PY
done

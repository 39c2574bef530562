#!/usr/bin/env bash
# CPU time the service spends on a fixed amount of work, for comparing builds or protocols on a shared, noisy machine:
# throughput swings ±20 % run to run here, CPU seconds per request far less. For each round and each variant, a fresh
# service on an empty database gets a warm-up, then exactly N requests; its user+system CPU ticks (/proc/PID/stat)
# over those requests are recorded. Variants alternate within a round; the medians over the rounds are printed.
#
#   Benchmarks/run-cpu.sh "before=/tmp/a/dedup-vitals after=/tmp/b/dedup-vitals" "ingest 1 40000 32" 6
#   Benchmarks/run-cpu.sh "json=BIN:ingest otlp=BIN:otlp" "- 500 800 16" 4     # a mode per variant
#
# Arguments: VARIANTS ("NAME=BINARY[:MODE] ..."), WORKLOADS ("MODE BATCH REQUESTS CONNECTIONS", comma-separated;
# MODE "-" takes the variant's), ROUNDS. LOAD_BIN: the generator (default: Benchmarks/.build/release/dedup-vitals-load).
# Workload mode "metrics" first creates 10,000 series (one event each), then scrapes. LOAD_ARGS: more generator options
# for every run, e.g. LOAD_ARGS="--clients 7 --mix retries --keys 0"; SERIES: the series of ingest (default 1000).
set -euo pipefail
# shellcheck disable=SC2086 # LOAD_ARGS is a list of options
root="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=Benchmarks/listen-address.sh
. "$root/Benchmarks/listen-address.sh"
load_bin="${LOAD_BIN:-$root/Benchmarks/.build/release/dedup-vitals-load}"
read -r -a variants <<<"$1"
IFS=, read -r -a workloads <<<"$2"
rounds="${3:-6}"
work="$(mktemp -d)"
pid=""
trap '[[ -n "$pid" ]] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT

# Prints the CPU ticks of one run: BINARY MODE BATCH REQUESTS CONNECTIONS.
measure() {
  local binary=$1 mode=$2 batch=$3 requests=$4 connections=$5
  rm -f "$work"/db.sqlite* "$work/log"
  "$binary" serve --listen 127.0.0.1:0 --db "$work/db.sqlite" --log-level notice 2>"$work/log" &
  pid=$!
  local target
  target="$(listen_address "$work/log")"
  local common=(--target "$target" --ceiling-seconds 0 --warmup 0)
  if [[ "$mode" == metrics ]]; then
    "$load_bin" "${common[@]}" --batch 500 --series 10000 --requests 20 --connections 1 >/dev/null
  fi
  "$load_bin" "${common[@]}" --mode "$mode" --batch "$batch" --series "${SERIES:-1000}" --requests $((requests / 10 + 1)) \
    --connections "$connections" ${LOAD_ARGS:-} >/dev/null
  local before after
  before=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  "$load_bin" "${common[@]}" --mode "$mode" --batch "$batch" --series "${SERIES:-1000}" --requests "$requests" \
    --connections "$connections" ${LOAD_ARGS:-} >"$work/load.txt" || { cat "$work/load.txt" >&2; exit 1; }
  after=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  kill -TERM "$pid"
  wait "$pid" || true
  pid=""
  echo $((after - before))
}

for workload in "${workloads[@]}"; do
  read -r wmode batch requests connections <<<"$workload"
  declare -A ticks=()
  for round in $(seq 1 "$rounds"); do
    for variant in "${variants[@]}"; do
      name=${variant%%=*}
      spec=${variant#*=}
      binary=${spec%%:*}
      mode=$wmode
      [[ "$spec" == *:* ]] && mode=${spec#*:}
      ticks[$name]+="$(measure "$binary" "$mode" "$batch" "$requests" "$connections") "
    done
  done
  for variant in "${variants[@]}"; do
    name=${variant%%=*}
    median=$(tr ' ' '\n' <<<"${ticks[$name]}" | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print (NR % 2 ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2)}')
    echo "$workload | $name | CPU ticks (1/100 s) per run: ${ticks[$name]}| median $median"
  done
  unset ticks
done

#!/usr/bin/env bash
# Resident memory with 10,000 series and 1,000,000 tracked keys (docs/performance.md, "Results" and "Memory"): a
# fresh service on an empty database gets 10,000 series (20 POSTs of 500 events, one series each, no keys), then
# 1,000,000 events with a distinct key each (200 POSTs of 5,000 events over 4 connections). Its RSS is read right
# after the ingest, with the peak so far, and again READ_AT seconds after start (default 68: after the first pruning
# pass, which returns the allocator's free memory). Builds given as name=BINARY are measured alternately, one service
# at a time; a build may be a script that sets an environment and execs the binary.
#
#   Benchmarks/run-memory.sh                                          # the release build of this checkout
#   BINS="before=/tmp/old/dedup-vitals after=.build-release/release/dedup-vitals" ROUNDS=3 Benchmarks/run-memory.sh
#
# Prints a Markdown table (MiB) and, per build, the medians.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
lock="${LOCK:-/tmp/swift-build.lock}"
rounds="${ROUNDS:-1}"
read_at="${READ_AT:-68}"
read -r -a bins <<<"${BINS:-this=$root/.build-release/release/dedup-vitals}"
load_bin="${LOAD_BIN:-$root/Benchmarks/.build/release/dedup-vitals-load}"

# shellcheck source=Benchmarks/fresh-service.sh
source "$root/Benchmarks/fresh-service.sh"

# A field of /proc/PID/status in MiB (VmRSS, VmHWM).
status_mib() {
  awk -v field="$1:" '$1 == field { printf "%.1f", $2 / 1024 }' "/proc/$service_pid/status"
}

# Runs one service; prints "after-ingest peak at-READ_AT" in MiB.
measure() {
  local started
  started=$(date +%s)
  start_service "$1"
  "$load_bin" --target "$target" --batch 500 --series 10000 --requests 20 --keys 0 \
    --ceiling-seconds 0 --warmup 0 --output row >/dev/null
  "$load_bin" --target "$target" --batch 5000 --series 10000 --pool 200 --requests 200 --connections 4 \
    --ceiling-seconds 0 --warmup 0 --output row >/dev/null
  local ingested peak later elapsed
  ingested="$(status_mib VmRSS)"
  peak="$(status_mib VmHWM)"
  elapsed=$(($(date +%s) - started))
  if ((elapsed < read_at)); then sleep $((read_at - elapsed)); fi
  later="$(status_mib VmRSS)"
  stop_service
  echo "$ingested $peak $later"
}

if [[ -z "${LOCK_HELD:-}" ]] && command -v flock >/dev/null; then
  exec 9>"$lock"
  flock 9
fi

declare -A results
for round in $(seq 1 "$rounds"); do
  for entry in "${bins[@]}"; do
    results["${entry%%=*},$round"]="$(measure "${entry#*=}")"
  done
done

echo "| build | round | RSS after ingest | peak | RSS ${read_at} s after start |"
echo "|---|---:|---:|---:|---:|"
for entry in "${bins[@]}"; do
  name="${entry%%=*}"
  for round in $(seq 1 "$rounds"); do
    read -r a p l <<<"${results["$name,$round"]}"
    printf '| %s | %s | %s | %s | %s |\n' "$name" "$round" "$a" "$p" "$l"
  done
done
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
for entry in "${bins[@]}"; do
  name="${entry%%=*}"
  column() { for round in $(seq 1 "$rounds"); do echo "${results["$name,$round"]}" | cut -d' ' -f"$1"; done | median; }
  echo "$name, medians: after ingest $(column 1) MiB, peak $(column 2) MiB, ${read_at} s after start $(column 3) MiB"
done

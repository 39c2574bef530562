#!/usr/bin/env bash
# A CPU profile of the service under one load shape, with the service's CPU broken down by stage of the write path
# per million events (docs/performance.md, "Cardinality"). A fresh service on an empty database gets 12 s of load;
# `perf record -F 499 -g` samples it from the 4th second for 6 s; `Benchmarks/profile_stages.py` then counts, per
# stage, the samples whose stack holds that stage's function, divided by the events of the sampled seconds (the
# run's mean rate times 6).
#
#   OUT=/tmp/p20 Benchmarks/run-profile.sh --batch 500 --connections 16 --clients 7 --mix retries --series 20 --keys 0
#   BIN=/tmp/other/dedup-vitals OUT=/tmp/p1000 Benchmarks/run-profile.sh ... --series 1000 --keys 0
#   Benchmarks/profile_stages.py /tmp/p20 /tmp/p1000          # the two side by side, and the difference
#
# Writes OUT.data (perf's), OUT.script (`perf script`) and OUT.rate (events/s). Needs `perf` (Debian: linux-perf)
# and a kernel that lets this user sample the service (perf_event_paranoid ≤ 1, or root).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
bin="${BIN:-$root/.build-release/release/dedup-vitals}"
out="${OUT:?OUT=path prefix for the profile files}"
load_bin="${LOAD_BIN:-$root/Benchmarks/.build/release/dedup-vitals-load}"
command -v perf >/dev/null || { echo "run-profile.sh: perf is not installed (Debian: linux-perf)" >&2; exit 1; }

# shellcheck source=Benchmarks/fresh-service.sh
source "$root/Benchmarks/fresh-service.sh"

start_service "$bin"
"$load_bin" --target "$target" --duration 12 --warmup 1 --ceiling-seconds 0 --output row "$@" >"$out.row" &
load_pid=$!
sleep 4
perf record -F 499 -g -p "$service_pid" -o "$out.data" -- sleep 6 >/dev/null 2>&1
wait "$load_pid"
cat "$out.row"
awk -F'|' '{ gsub(/ /, "", $5); print $5 }' "$out.row" >"$out.rate"
perf script -i "$out.data" >"$out.script" 2>/dev/null

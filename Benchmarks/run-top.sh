#!/usr/bin/env bash
# The dashboard at many series (docs/performance.md#top-at-10000-series): a fresh release service gets SERIES series
# (one event each, through dedup-vitals-load); then the cost of a refresh is timed REFRESHES times each: the service's
# answer to `GET /v1/summary` (curl, the body read and dropped) and a whole refresh of the dashboard, `top --once`
# (fetch, decode, state, and a frame of every row); then the interactive `top` runs in tmux: each of KEYS presses of
# `j` is timed from sending the key to the selection marker moving on the captured screen (so the figures include
# tmux's capture, a few ms). Builds given as name=BINARY (service and `top` alike) are measured alternately, ROUNDS
# times, so that their figures come from one run.
#
#   Benchmarks/run-top.sh                                  # the release build of run-load.sh, 10,000 series
#   SERIES=1000 TOP_BIN=/path/to/other/dedup-vitals Benchmarks/run-top.sh   # another `top` against this service
#   BINS="before=/tmp/old/dedup-vitals after=.build-release/release/dedup-vitals" ROUNDS=2 Benchmarks/run-top.sh
#   KEYS=0 REFRESHES=5 Benchmarks/run-top.sh               # the refresh cost only
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
lock="${LOCK:-/tmp/swift-build.lock}"
read -r -a bins <<<"${BINS:-this=${SERVICE_BIN:-$root/.build-release/release/dedup-vitals}}"
load_bin="${LOAD_BIN:-$root/Benchmarks/.build/release/dedup-vitals-load}"
series="${SERIES:-10000}"
keys="${KEYS:-8}"
refreshes="${REFRESHES:-3}"
rounds="${ROUNDS:-1}"
command -v tmux >/dev/null || { echo "run-top: needs tmux" >&2; exit 1; }
session="dedup-vitals-top-$$"

# shellcheck source=Benchmarks/fresh-service.sh
source "$root/Benchmarks/fresh-service.sh"
trap 'tmux kill-session -t "$session" 2>/dev/null || true; stop_service; rm -rf "$work"' EXIT

if [[ -z "${LOCK_HELD:-}" ]] && command -v flock >/dev/null; then
  exec 9>"$lock"
  flock 9
fi

ms() { echo $(($(date +%s%N) / 1000000)); }
# "NAME: a b c ms (median m)" for the times (ms) on stdin, one a line.
summarize() {
  sort -n | awk -v name="$1" '{ t[NR] = $1; all = all " " $1 } END { printf "%s:%s ms (median %d)\n", name, all, t[int((NR + 1) / 2)] }'
}

# Measures one build (NAME BINARY) on a fresh service.
measure() {
  local name="$1" service_bin="$2"
  local top_bin="${TOP_BIN:-$service_bin}"
  start_service "$service_bin"
  local url="http://$target"
  "$load_bin" --target "$target" --batch 500 --series "$series" --requests $(((series + 499) / 500)) --connections 1 \
    --ceiling-seconds 0 --warmup 0 --keys 0 >/dev/null
  for _ in $(seq 1 "$refreshes"); do
    curl -sf -o /dev/null -w '%{time_total}\n' "$url/v1/summary" | awk '{ printf "%d\n", $1 * 1000 }'
  done | summarize "$name: GET /v1/summary at $series series"
  for _ in $(seq 1 "$refreshes"); do
    local start
    start=$(ms)
    "$top_bin" top --url "$url" --once >/dev/null
    echo $(($(ms) - start))
  done | summarize "$name: refresh (top --once) at $series series"
  ((keys > 0)) || return 0

  tmux new-session -d -s "$session" -x 140 -y 45 "$top_bin top --url $url --refresh 2"
  marker() { tmux capture-pane -p -t "$session" | grep -n '^▶' | head -1 | cut -d: -f1; }
  for _ in $(seq 1 300); do [[ -n "$(marker)" ]] && break; sleep 0.05; done
  sleep 3
  for _ in $(seq 1 "$keys"); do
    local before
    before=$(marker)
    start=$(ms)
    tmux send-keys -t "$session" j
    while [[ "$(marker)" == "$before" ]]; do
      (($(ms) - start > 30000)) && { echo "$name: a key changed nothing within 30 s" >&2; exit 1; }
    done
    echo $(($(ms) - start))
    sleep 0.7
  done | summarize "$name: key latency at $series series"
  tmux kill-session -t "$session"
}

for _ in $(seq 1 "$rounds"); do
  for entry in "${bins[@]}"; do
    measure "${entry%%=*}" "${entry#*=}"
  done
done

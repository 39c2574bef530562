#!/usr/bin/env bash
# The dashboard at many series (docs/performance.md#top-at-10000-series): a fresh release service gets SERIES series
# (one event each, through dedup-vitals-load), then `top --once` is timed and the interactive `top` runs in tmux:
# each of KEYS presses of `j` is timed from sending the key to the selection marker moving on the captured screen
# (so the figures include tmux's capture, a few ms).
#
#   Benchmarks/run-top.sh                                  # the release build of run-load.sh, 10,000 series
#   SERIES=1000 TOP_BIN=/path/to/other/dedup-vitals Benchmarks/run-top.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
service_bin="${SERVICE_BIN:-$root/.build-release/release/dedup-vitals}"
top_bin="${TOP_BIN:-$service_bin}"
load_bin="${LOAD_BIN:-$root/Benchmarks/.build/release/dedup-vitals-load}"
series="${SERIES:-10000}"
keys="${KEYS:-8}"
command -v tmux >/dev/null || { echo "run-top: needs tmux" >&2; exit 1; }
work="$(mktemp -d)"
session="dedup-vitals-top-$$"
pid=""
trap 'tmux kill-session -t "$session" 2>/dev/null || true; [[ -n "$pid" ]] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT

"$service_bin" serve --listen 127.0.0.1:0 --db "$work/db.sqlite" --log-level notice 2>"$work/log" &
pid=$!
for _ in $(seq 1 100); do grep -q 'address=127.0.0.1:' "$work/log" && break; sleep 0.1; done
url="http://127.0.0.1:$(grep -o 'address=127.0.0.1:[0-9]*' "$work/log" | head -1 | cut -d: -f2)"
"$load_bin" --target "${url#http://}" --batch 500 --series "$series" --requests $(((series + 499) / 500)) --connections 1 \
  --ceiling-seconds 0 --warmup 0 --keys 0 >/dev/null

ms() { echo $(($(date +%s%N) / 1000000)); }
start=$(ms)
"$top_bin" top --url "$url" --once >/dev/null
echo "top --once at $series series: $(($(ms) - start)) ms"

tmux new-session -d -s "$session" -x 140 -y 45 "$top_bin top --url $url --refresh 2"
marker() { tmux capture-pane -p -t "$session" | grep -n '^▶' | head -1 | cut -d: -f1; }
for _ in $(seq 1 300); do [[ -n "$(marker)" ]] && break; sleep 0.05; done
sleep 3
for n in $(seq 1 "$keys"); do
  before=$(marker)
  start=$(ms)
  tmux send-keys -t "$session" j
  while [[ "$(marker)" == "$before" ]]; do
    (($(ms) - start > 30000)) && { echo "key $n: no change within 30 s" >&2; exit 1; }
  done
  echo "key $n: $(($(ms) - start)) ms"
  sleep 0.7
done

#!/usr/bin/env bash
# How ingest throughput depends on the number of series a batch touches (docs/performance.md, "Cardinality"):
# batches of 500 events over 16 connections, every event with a `client` among 7 and the `retries` outcome mix (a
# tenth hits with age_ms, a fifth completions), spread over 20, 100 and 1,000 series, without keys and with a fresh
# key on every event. One fresh service on an empty database per cell; builds given as name=BINARY are measured
# alternately, round by round, so that their figures come from one run.
#
#   Benchmarks/run-cardinality.sh                                   # the release build of this checkout
#   BINS="before=/tmp/old/dedup-vitals after=.build-release/release/dedup-vitals" Benchmarks/run-cardinality.sh
#   SERIES_COUNTS="20 1000" DURATION=6 ROUNDS=2 Benchmarks/run-cardinality.sh
#
# Prints a Markdown table: events/s without keys, with a fresh key per event, and keyed/keyless; and, per build,
# the 1,000-series rate (the last count) as a share of the 20-series rate (the first).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
lock="${LOCK:-/tmp/swift-build.lock}"
duration="${DURATION:-8}"
rounds="${ROUNDS:-1}"
read -r -a counts <<<"${SERIES_COUNTS:-20 100 1000}"
read -r -a bins <<<"${BINS:-this=$root/.build-release/release/dedup-vitals}"
load_bin="${LOAD_BIN:-$root/Benchmarks/.build/release/dedup-vitals-load}"
shape=(--batch 500 --connections 16 --clients 7 --mix retries)

# shellcheck source=Benchmarks/fresh-service.sh
source "$root/Benchmarks/fresh-service.sh"

# Runs one cell on a fresh service; prints its events/s.
measure() {
  start_service "$1"
  shift
  "$load_bin" --target "$target" --duration "$duration" --warmup 2 --ceiling-seconds 0 --output row \
    "${shape[@]}" "$@" | awk -F'|' '{ gsub(/ /, "", $5); print $5 }'
  stop_service
}

if [[ -z "${LOCK_HELD:-}" ]] && command -v flock >/dev/null; then
  exec 9>"$lock"
  flock 9
fi

# Per round and build, the cells run in the order: fresh keys at the first count, then without keys at every count,
# then fresh keys at the others. So each ratio the goals read (keyed / keyless at the first count, the last count's
# keyless rate over the first's when there are two counts) compares cells run one after the other: this machine's
# speed drifts by up to a third within a minute, and cells further apart took that drift into their ratio.
declare -A keyless keyed
for round in $(seq 1 "$rounds"); do
  for entry in "${bins[@]}"; do
    name="${entry%%=*}"
    bin="${entry#*=}"
    keyed["$name,${counts[0]},$round"]="$(measure "$bin" --series "${counts[0]}" --fresh-keys)"
    for series in "${counts[@]}"; do
      keyless["$name,$series,$round"]="$(measure "$bin" --series "$series" --keys 0)"
    done
    for series in "${counts[@]:1}"; do
      keyed["$name,$series,$round"]="$(measure "$bin" --series "$series" --fresh-keys)"
    done
  done
done

echo "| series | build | round | no keys, events/s | a fresh key per event | keyed / keyless |"
echo "|---:|---|---:|---:|---:|---:|"
for series in "${counts[@]}"; do
  for entry in "${bins[@]}"; do
    name="${entry%%=*}"
    for round in $(seq 1 "$rounds"); do
      a="${keyless["$name,$series,$round"]}"
      b="${keyed["$name,$series,$round"]}"
      printf '| %s | %s | %s | %s | %s | %s |\n' "$series" "$name" "$round" "$a" "$b" \
        "$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", b / a }')"
    done
  done
done
first="${counts[0]}"
last="${counts[${#counts[@]} - 1]}"
for entry in "${bins[@]}"; do
  name="${entry%%=*}"
  for round in $(seq 1 "$rounds"); do
    printf '%s, round %s: %s series without keys at %s of the %s-series rate\n' "$name" "$round" "$last" \
      "$(awk -v a="${keyless["$name,$last,$round"]}" -v b="${keyless["$name,$first,$round"]}" 'BEGIN { printf "%.2f", a / b }')" \
      "$first"
  done
done

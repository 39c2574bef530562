#!/usr/bin/env bash
# End-to-end test of `dedup-vitals mcp-guard` with MCP software no one here wrote: the official Python MCP SDK
# (mcp==2.3.0 from PyPI) provides the server (.ci/mcp_guard_server.py: a tool that appends to a file, a read-only
# tool, ...) and the stdio client (.ci/mcp-guard.py) that calls it through the guard. Checks: duplicate calls execute
# once and replays return the first result; concurrent duplicates execute once; read-only tools pass through; tool
# errors are not stored; a key_fields mismatch is refused; a restarted guard keeps the stored outcomes (with
# dedup-vitals down meanwhile); the decisions show in a live dedup-vitals' /metrics and /v1/keys/lookup; a long mixed
# session passes byte for byte apart from guarded repeats, with malformed lines from both sides; the child's exit
# status becomes the guard's; a bad configuration is one stderr line and exit 78.
#
# Usage: .ci/mcp-guard.sh [PATH/TO/dedup-vitals]   (default: the binary of `swift build --show-bin-path`)
# Bounded to a few minutes; loopback only; every process it starts is stopped by its PID on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
deadline=$((SECONDS + 240))

bin="${1:-$(swift build --show-bin-path)/dedup-vitals}"
[ -x "$bin" ] || { echo "mcp-guard: no executable at $bin" >&2; exit 1; }
bin="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"

e2e_name=mcp-guard
# shellcheck source=.ci/e2e-lib.sh
source .ci/e2e-lib.sh

venv="$(bash .ci/python-venv.sh mcp==2.3.0)"
py="$venv/bin/python"
ci="$PWD/.ci"

# A live dedup-vitals for the reports.
"$bin" serve --listen 127.0.0.1:0 --db "$work/dedup-vitals.sqlite" >"$work/dedup-vitals.log" 2>&1 &
pids+=($!)
logged_port() { grep -o 'address=127.0.0.1:[0-9]*' "$work/dedup-vitals.log" | head -1 | cut -d: -f2; }
has_logged_port() { [ -n "$(logged_port)" ]; }
wait_for "dedup-vitals to listen" has_logged_port
url="http://127.0.0.1:$(logged_port)"

write_config() {
  cat >"$1" <<YAML
service: ci-ledger
database: $work/guard.sqlite
in_flight_wait: 20s
report:
  url: $2
  flush_interval: 200ms
tools:
  create_ticket:
    key_fields: [conversation]
YAML
}
write_config "$work/guard.yml" "$url"
write_config "$work/guard-unreported.yml" "http://127.0.0.1:$(free_port)"
ledger="$work/ledger.txt"
guard=("$bin" mcp-guard --config "$work/guard.yml" --)
server=("$py" "$ci/mcp_guard_server.py" "$ledger")

echo "== mcp-guard: SDK client through the guard"
"$py" "$ci/mcp-guard.py" sdk "$ledger" -- "${guard[@]}" "${server[@]}" 2>"$work/sdk.log" ||
  fail "the SDK session (see sdk.log)"
tail -n 1 "$work/sdk.log"

echo "== mcp-guard: a restarted guard replays the stored outcome (dedup-vitals unreachable meanwhile)"
"$py" "$ci/mcp-guard.py" restart "$ledger" -- "$bin" mcp-guard --config "$work/guard-unreported.yml" -- \
  "${server[@]}" 2>"$work/restart.log" || fail "the restarted session (see restart.log)"
grep -q "decisions were not reported to dedup-vitals" "$work/restart.log" || fail "the guard did not say what it could not report"
tail -n 1 "$work/restart.log"

echo "== mcp-guard: the decisions in dedup-vitals' /metrics and key forensics"
count() {
  curl -fsS "$url/metrics" |
    grep -F "dedup_events_total{service=\"ci-ledger\",operation=\"$1\",outcome=\"$2\"}" | awk '{print $2}' || true
}
# The SDK session's: misses one, between, two; four concurrent repeats of two waited (in_flight); one replay.
until [ "$(count append_line completed)" = "3" ] && [ "$(count create_ticket mismatch)" = "1" ]; do
  [ "$SECONDS" -lt "$deadline" ] || fail "append_line's decisions in /metrics: $(curl -fsS "$url/metrics" | grep ci-ledger)"
  sleep 0.25
done
for expected in "append_line miss 3" "append_line in_flight 4" "append_line hit 1" "create_ticket hit 1" \
  "fail_once miss 2" "fail_once completed 1"; do
  set -- $expected
  [ "$(count "$1" "$2")" = "$3" ] || fail "/metrics: $1 $2 is $(count "$1" "$2"), not $3"
done
[ -z "$(count count_lines miss)" ] || fail "a read-only tool was reported"
lookup="$(curl -fsS -G "$url/v1/keys/lookup" --data-urlencode service=ci-ledger --data-urlencode operation=append_line \
  --data-urlencode 'key=append_line:{"text":"one"}')"
echo "$lookup" | "$py" -c '
import json, sys
record = json.load(sys.stdin)
assert record["executions"] == 1, record
assert record["state"] == "completed", record
assert record["counts"]["hit"] == 1 and record["counts"]["miss"] == 1, record
' || fail "/v1/keys/lookup: $lookup"
summary="$(curl -fsS "$url/v1/summary")"
echo "$summary" | "$py" -c '
import json, sys
series = {s["operation"]: s for s in json.load(sys.stdin)["series"] if s["service"] == "ci-ledger"}
clients = [c["client"] for c in series["append_line"]["top_clients"]]
# The Python SDK client calls itself "mcp" (clientInfo in the _meta of each request, protocol 2026-07-28).
assert clients == ["mcp"], clients
' || fail "/v1/summary top_clients: $summary"
echo "mcp-guard: /metrics, /v1/keys/lookup and /v1/summary show the guard's decisions (key executed once, client mcp)"

echo "== mcp-guard: a long mixed session, byte for byte, with malformed lines from both sides"
"$py" "$ci/mcp-guard.py" raw "$work/tap.log" -- "$bin" mcp-guard --config "$work/guard.yml" -- \
  "$py" "$ci/mcp_guard_tap.py" "$work/tap.log" "${server[@]}" 2>"$work/raw.log" || fail "the raw session (see raw.log)"
grep -q "malformed JSON-RPC from the client" "$work/raw.log" || fail "no log line for the client's malformed line"
grep -q "malformed JSON-RPC from the server" "$work/raw.log" || fail "no log line for the server's malformed line"
tail -n 1 "$work/raw.log"

echo "== mcp-guard: exit status, signals, configuration errors"
set +e
"$bin" mcp-guard --config "$work/guard.yml" -- "$py" -c 'import sys; sys.stdin.read(); sys.exit(7)' </dev/null
status=$?
"$bin" mcp-guard --config "$work/guard.yml" -- sh -c 'kill -9 $$' </dev/null
killed=$?
printf 'nonsense: 1\n' >"$work/bad.yml"
"$bin" mcp-guard --config "$work/bad.yml" -- true </dev/null 2>"$work/bad.log"
bad=$?
set -e
[ "$status" = 7 ] || fail "the guard exited with $status, its child with 7"
[ "$killed" = 137 ] || fail "the guard exited with $killed, its child was killed by SIGKILL (137)"
[ "$bad" = 78 ] || fail "a bad configuration exited with $bad, not 78"
[ "$(wc -l <"$work/bad.log")" = 1 ] && grep -q 'bad.yml:1: unknown key "nonsense"' "$work/bad.log" ||
  fail "a bad configuration: $(cat "$work/bad.log")"
echo "mcp-guard: exit 7 and 137 passed on; bad configuration: $(cat "$work/bad.log")"

echo "mcp-guard: passed"

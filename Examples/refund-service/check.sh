#!/usr/bin/env bash
# End-to-end check of the walkthrough, run by .ci/kit.sh: the refund service reports through the kit to a live
# dedup-vitals; every decision it recorded is counted there exactly once; killing it mid-request leaves stale locks.
#
#   bash Examples/refund-service/check.sh PATH/TO/dedup-vitals PATH/TO/refund-demo
set -euo pipefail
dv="${1:?dedup-vitals binary}"
demo="${2:?refund-demo binary}"
work="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "check.sh: $*" >&2; for f in "$work"/*.log; do echo "--- $f"; tail -20 "$f"; done >&2; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

cat > "$work/dv.yml" <<YAML
database: $work/dv.sqlite
stale_in_flight_after: 2s
YAML
"$dv" serve --config "$work/dv.yml" --listen 127.0.0.1:0 > "$work/dv.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do grep -q 'address=' "$work/dv.log" && break; sleep 0.1; done
dv_url="http://$(grep -o 'address=[0-9.:]*' "$work/dv.log" | head -1 | cut -d= -f2)"
[ "$dv_url" != "http://" ] || fail "dedup-vitals did not start"

metric() {  # metric NAME OUTCOME: one series of payments/refund, 0 when absent
  curl -fsS "$dv_url/metrics" | awk -v name="$1" -v outcome="$2" '
    index($0, name "{") == 1 && /service="payments"/ && /operation="refund"/ && (outcome == "" || index($0, "outcome=\"" outcome "\"")) { sum += $NF }
    END { printf "%d", sum }'
}

echo "-- service and retrying clients"
port="$(free_port)"
"$demo" serve --port "$port" --dedup-vitals "$dv_url" --store "$work/keys.sqlite" --work-ms 600 --failure-rate 0.1 \
  > "$work/service.log" 2>&1 &
service=$!
pids+=($service)
for _ in $(seq 100); do [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/" || true)" != 000 ] && break; sleep 0.1; done
"$demo" client --url "http://127.0.0.1:$port" --clients 6 --duration 8 --timeout-ms 400 --mismatch-rate 0.2 \
  > "$work/client.log" 2>&1 || fail "client failed"
kill -TERM "$service"
wait "$service" || fail "service did not stop cleanly"
grep 'clients' "$work/client.log" | tail -1

sent="$(grep -o 'sent=[0-9]*' "$work/service.log" | tail -1 | cut -d= -f2)"
dropped="$(grep -o 'dropped=[0-9]*' "$work/service.log" | tail -1 | cut -d= -f2)"
[ -n "$sent" ] || fail "the service did not log its reporter statistics"
total="$(metric dedup_events_total '')"
echo "reporter sent=$sent dropped=$dropped; dedup-vitals counted $total"
[ "$dropped" = 0 ] || fail "the reporter dropped $dropped events"
[ "$total" = "$sent" ] || fail "dedup-vitals counted $total events, the reporter sent $sent"
for outcome in miss hit in_flight completed mismatch; do
  n="$(metric dedup_events_total "$outcome")"
  echo "  $outcome: $n"
  [ "$n" -gt 0 ] || fail "no $outcome decision reached dedup-vitals"
done
conflicts="$(grep -o 'conflicts_409=[0-9]*' "$work/client.log" | tail -1 | cut -d= -f2)"
[ "$(metric dedup_events_total in_flight)" -ge "$conflicts" ] || fail "fewer in_flight events than 409s seen by clients"

echo "-- kill -9 mid-request: stale locks"
"$demo" serve --port "$port" --dedup-vitals "$dv_url" --store "$work/keys.sqlite" --work-ms 5000 --failure-rate 0 --clients 3 \
  > "$work/killed.log" 2>&1 &
killed=$!
pids+=($killed)
before="$(metric dedup_events_total miss)"
for _ in $(seq 100); do [ "$(metric dedup_events_total miss)" -ge $((before + 3)) ] && break; sleep 0.1; done
kill -KILL "$killed"
wait "$killed" 2>/dev/null || true
sleep 3
stale="$(metric dedup_stale_in_flight_keys '')"
echo "stale in-flight keys: $stale"
[ "$stale" -ge 3 ] || fail "expected at least 3 stale locks after kill -9, got $stale"
echo "refund example: OK"

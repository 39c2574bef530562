#!/usr/bin/env bash
# End-to-end test of POST /v1/logs with a client no one here wrote: the OpenTelemetry Python SDK
# (opentelemetry-sdk + opentelemetry-exporter-otlp-proto-http, pinned) emits decision log records through a
# LoggerProvider with gzip to a live service; then JSON bodies written as the OTLP specification's examples are.
# The counts must come out exact in /metrics, /v1/summary and /v1/keys/lookup; non-decision records are ignored;
# an invalid decision comes back in partial_success and the exporter does not retry it (see .ci/e2e-otlp.py).
#
# Usage: .ci/e2e-otlp.sh PATH/TO/dedup-vitals
# Loopback only; the service it starts is stopped by its PID on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

bin="${1:-$(swift build --show-bin-path)/dedup-vitals}"
[ -x "$bin" ] || { echo "e2e-otlp: no executable at $bin" >&2; exit 1; }

venv=.build/e2e-otlp-venv
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import opentelemetry.exporter.otlp.proto.http' 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check \
    opentelemetry-sdk==1.45.2 opentelemetry-exporter-otlp-proto-http==1.45.2
fi

work="$(mktemp -d)"
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

"$bin" serve --listen 127.0.0.1:0 --db "$work/db.sqlite" >"$work/serve.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do
  port="$(grep -o 'address=127.0.0.1:[0-9]*' "$work/serve.log" | head -1 | cut -d: -f2 || true)"
  [ -n "$port" ] && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/serve.log" >&2; echo "e2e-otlp: the service exited" >&2; exit 1; }
  sleep 0.1
done
[ -n "$port" ] || { cat "$work/serve.log" >&2; echo "e2e-otlp: the service did not start" >&2; exit 1; }

if ! "$venv/bin/python" .ci/e2e-otlp.py "http://127.0.0.1:$port"; then
  echo "--- last lines of the service log" >&2
  tail -n 20 "$work/serve.log" >&2
  exit 1
fi

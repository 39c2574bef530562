#!/usr/bin/env bash
# Fuzzes the real service against its own OpenAPI document (GET /openapi.json) with schemathesis from PyPI: every
# check, positive and negative data, a bounded number of examples per operation; zero failures allowed. Two runs:
#   1. with an API token and a metrics token configured: every /v1 route and /metrics need them (the ignored_auth
#      check sends requests without them and expects 401);
#   2. without tokens (loopback only): the same operations, open. The document's security requirements hold only
#      when tokens are configured, so this run neither sends requests without the Authorization header as negative
#      cases nor runs the ignored_auth check.
# Hooks (NDJSON bodies, timestamps relative to the clock) are in .ci/schemathesis_hooks.py, per-operation settings in
# .ci/schemathesis.toml.
#
# Usage: .ci/schemathesis.sh PATH/TO/dedup-vitals [MAX_EXAMPLES_PER_OPERATION]   (default 100)
# Loopback only; every process it starts is stopped by its PID on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

bin="${1:?usage: .ci/schemathesis.sh PATH/TO/dedup-vitals [MAX_EXAMPLES]}"
examples="${2:-100}"
[ -x "$bin" ] || { echo "schemathesis: no executable at $bin" >&2; exit 1; }
venv="$(bash .ci/python-venv.sh schemathesis==4.32.5)"

work="$(mktemp -d)"
pid=""
stop_service() {
  if [ -n "$pid" ]; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    pid=""
  fi
}
cleanup() {
  stop_service
  rm -rf "$work"
}
trap cleanup EXIT

# Starts the service with config $1; sets $base once it listens.
start_service() {
  local name="$1"
  "$bin" serve --config "$work/$name.yml" >"$work/$name.log" 2>&1 &
  pid=$!
  local port="" tries=0
  until [ -n "$port" ]; do
    kill -0 "$pid" 2>/dev/null || { cat "$work/$name.log" >&2; echo "schemathesis: the service did not start" >&2; exit 1; }
    [ "$tries" -lt 100 ] || { echo "schemathesis: the service did not log its address" >&2; exit 1; }
    sleep 0.1
    tries=$((tries + 1))
    port="$(grep -o 'address=127.0.0.1:[0-9]*' "$work/$name.log" | head -1 | cut -d: -f2 || true)"
  done
  base="http://127.0.0.1:$port"
}

# Posts the document's own example batch (payments/refund, key order-42: one miss, one hit) with curl args "$@", so
# that the examples of /v1/series and /v1/keys/lookup find their series and key, and the rule below fires: the 200
# answers and /v1/alerts are checked against their schemas with content, not only empty.
seed_service() {
  curl -sf "$base/openapi.json" | "$venv/bin/python" -c '
import json, sys
body = json.load(sys.stdin)["paths"]["/v1/events"]["post"]["requestBody"]["content"]["application/json"]
print(json.dumps(body["examples"]["array"]["value"]))' >"$work/seed.json"
  curl -sf -X POST "$base/v1/events" -H 'Content-Type: application/json' --data-binary @"$work/seed.json" "$@" >/dev/null ||
    { echo "schemathesis: the seed batch was refused" >&2; exit 1; }
  local tries=0
  until curl -sf "$base/v1/alerts" "$@" | grep -q '"state":"firing"'; do
    [ "$tries" -lt 50 ] || { echo "schemathesis: the seed alert did not fire" >&2; exit 1; }
    sleep 0.2
    tries=$((tries + 1))
  done
}

# Runs schemathesis against $base with extra arguments; prints its summary; fails on any failure.
fuzz() {
  local name="$1"
  shift
  echo "== schemathesis ($name): $examples examples per operation"
  if ! SCHEMATHESIS_HOOKS=schemathesis_hooks PYTHONPATH="$PWD/.ci" "$venv/bin/schemathesis" --no-color \
    --config-file .ci/schemathesis.toml run "$base/openapi.json" --url "$base" \
    --checks all --mode all --max-examples "$examples" --seed 20260516 --workers 1 --generation-database none --request-timeout 10 \
    --report junit --report-dir "$work/report-$name" "$@" >"$work/schemathesis-$name.out" 2>&1; then
    cat "$work/schemathesis-$name.out"
    echo "--- last lines of the service log" >&2
    tail -n 20 "$work/$name.log" >&2
    echo "schemathesis ($name): FAILED" >&2
    exit 1
  fi
  sed -n '/SUMMARY/,$p' "$work/schemathesis-$name.out"
}

cat >"$work/rules.yml" <<'EOF'
rules:
  - {alert: FuzzSeedDuplicates, kind: duplicate_ratio, window: 1m, above: 0.1, for: 0s, labels: {severity: info}}
EOF
token="fuzz-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
cat >"$work/tokens.yml" <<EOF
listen: 127.0.0.1:0
database: $work/tokens.sqlite
evaluation_interval: 1s
rule_files: [$work/rules.yml]
metrics_token_env: DV_FUZZ_TOKEN
auth:
  tokens:
    - {name: fuzz, token_env: DV_FUZZ_TOKEN, admin: true}  # admin: POST /-/reload is exercised too
EOF
export DV_FUZZ_TOKEN="$token"
start_service tokens
seed_service -H "Authorization: Bearer $token"
fuzz tokens -H "Authorization: Bearer $token"
stop_service

cat >"$work/open.yml" <<EOF
listen: 127.0.0.1:0
database: $work/open.sqlite
evaluation_interval: 1s
rule_files: [$work/rules.yml]
EOF
start_service open
seed_service
fuzz open --exclude-checks ignored_auth --generation-with-security-parameters false
stop_service
echo "schemathesis: zero failures in both runs"

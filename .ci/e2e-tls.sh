#!/usr/bin/env bash
# End-to-end test of HTTPS on dedup-vitals' own listener with a real Prometheus: a CA, a server certificate and a
# client certificate are made with the openssl CLI; dedup-vitals serves with `tls` (mutual TLS, client CA), and a
# Prometheus scrapes /metrics over https with `tls_config` (ca_file, cert_file, key_file). Passes when the target is
# up and Prometheus has dedup-vitals' samples, including process_* ones; a scrape without a client certificate is
# checked to be refused.
#
# Usage: .ci/e2e-tls.sh [PATH/TO/dedup-vitals]   (default: the binary of `swift build --show-bin-path`)
# Bounded to about a minute; loopback only; every process it starts is stopped by its PID on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
deadline=$((SECONDS + 90))

e2e_name=e2e-tls
# shellcheck source=.ci/e2e-lib.sh
. .ci/e2e-lib.sh
install_missing prometheus openssl curl python3
service_binary "${1:-}"

# A CA, then certificates it signs: NAME, common name, extensions.
ssl() { openssl "$@" >>"$work/openssl.log" 2>&1 || fail "openssl $1"; }
ssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=e2e-tls CA" \
  -keyout "$work/ca.key" -out "$work/ca.pem"
issue() {
  local name="$1" cn="$2" ext="$3"
  ssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$cn" -keyout "$work/$name.key" -out "$work/$name.csr"
  printf '%s\nbasicConstraints=CA:FALSE\n' "$ext" >"$work/$name.ext"
  ssl x509 -req -in "$work/$name.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" -CAcreateserial -days 2 \
    -extfile "$work/$name.ext" -out "$work/$name.pem"
}
issue server 127.0.0.1 $'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth'
issue prometheus prometheus 'extendedKeyUsage=clientAuth'

cat >"$work/dedup-vitals.yml" <<YAML
tls:
  cert_file: server.pem
  key_file: server.key
  client_ca_file: ca.pem
YAML
"$bin" serve --config "$work/dedup-vitals.yml" --listen 127.0.0.1:0 --db "$work/db.sqlite" >"$work/dedup-vitals.log" 2>&1 &
pids+=($!)
logged_port() { grep -o 'address=127.0.0.1:[0-9]*' "$work/dedup-vitals.log" | head -1 | cut -d: -f2; }
has_logged_port() { [ -n "$(logged_port)" ]; }
wait_for "dedup-vitals to listen" has_logged_port
port="$(logged_port)"
target="127.0.0.1:$port"

# Some traffic, over mutual TLS.
curl -sS --fail --cacert "$work/ca.pem" --cert "$work/prometheus.pem" --key "$work/prometheus.key" \
  -H 'Content-Type: application/json' -d '{"service":"payments","operation":"refund","outcome":"miss"}' \
  "https://$target/v1/events" >/dev/null || fail "POST /v1/events over mutual TLS"
# Without a client certificate the handshake fails.
if curl -sS --max-time 5 --cacert "$work/ca.pem" "https://$target/metrics" >/dev/null 2>&1; then
  fail "a client without a certificate was served"
fi

prometheus_port="$(free_port)"
cat >"$work/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: dedup-vitals
    scheme: https
    tls_config:
      ca_file: $work/ca.pem
      cert_file: $work/prometheus.pem
      key_file: $work/prometheus.key
      min_version: TLS12
    static_configs:
      - targets: ['$target']
YAML
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
  --web.listen-address="127.0.0.1:$prometheus_port" >"$work/prometheus.log" 2>&1 &
pids+=($!)

query() {
  curl -sS --max-time 5 "http://127.0.0.1:$prometheus_port/api/v1/query" --data-urlencode "query=$1" 2>/dev/null
}
has_result() {
  query "$1" | python3 -c 'import json, sys; d = json.load(sys.stdin); sys.exit(0 if d["data"]["result"] else 1)' 2>/dev/null
}
wait_for "Prometheus to scrape dedup-vitals over https (up == 1)" has_result 'up{job="dedup-vitals"} == 1'
wait_for "dedup_events_total through the https scrape" has_result 'dedup_events_total{service="payments",outcome="miss"} == 1'
wait_for "process_resident_memory_bytes through the https scrape" has_result 'process_resident_memory_bytes{job="dedup-vitals"} > 0'
scrape_url="$(curl -sS "http://127.0.0.1:$prometheus_port/api/v1/targets" | python3 -c \
  'import json, sys; print(json.load(sys.stdin)["data"]["activeTargets"][0]["scrapeUrl"])')"
[[ "$scrape_url" == https://* ]] || fail "the scrape URL is $scrape_url, not https"
echo "e2e-tls: OK: Prometheus scrapes $scrape_url with tls_config (CA, client certificate); clients without a certificate are refused"

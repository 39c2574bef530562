# Sourced by the benchmark scripts: one service at a time on a fresh database in a temporary folder.
#   start_service BINARY   stops the previous one, starts BINARY on an empty database; sets $service_pid and $target
#   stop_service           SIGTERM and wait
# The folder and the last service are cleaned up when the script exits.

# shellcheck source=Benchmarks/listen-address.sh
. "$(dirname "${BASH_SOURCE[0]}")/listen-address.sh"

work="$(mktemp -d)"
service_pid=""
target=""
stop_service() {
  if [[ -n "$service_pid" ]]; then
    kill -TERM "$service_pid" 2>/dev/null || true
    wait "$service_pid" 2>/dev/null || true
    service_pid=""
  fi
}
trap 'stop_service; rm -rf "$work"' EXIT

start_service() {
  stop_service
  rm -f "$work"/db.sqlite*
  "$1" serve --listen 127.0.0.1:0 --db "$work/db.sqlite" --log-level notice 2>"$work/service.log" &
  service_pid=$!
  target="$(listen_address "$work/service.log")"
}

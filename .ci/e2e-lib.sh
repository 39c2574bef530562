# Shared by the end-to-end scripts (.ci/e2e-*.sh): a scratch directory, processes stopped by PID on exit, bounded
# waits, free loopback ports and a webhook receiver. Source it after setting `e2e_name` (the prefix of every line)
# and `deadline` (in $SECONDS) in a script that runs with `set -euo pipefail`.

work="$(mktemp -d)"
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# Prints the failure and the last lines of every log in $work, then exits 1.
fail() {
  echo "$e2e_name: FAIL: $*" >&2
  local log
  for log in "$work"/*.log; do
    [ -f "$log" ] || continue
    echo "--- last lines of $(basename "$log")" >&2
    tail -n 15 "$log" >&2
  done
  exit 1
}

# Runs "$@" until it succeeds; fails with $1's description at the deadline.
wait_for() {
  local what="$1"
  shift
  until "$@"; do
    [ "$SECONDS" -lt "$deadline" ] || fail "timed out waiting for $what"
    sleep 0.25
  done
}

# Installs with apt whichever of the named commands is missing (each command is its Debian package's name).
install_missing() {
  local command need=()
  for command in "$@"; do command -v "$command" >/dev/null 2>&1 || need+=("$command"); done
  [ ${#need[@]} -eq 0 ] && return
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
}

# Sets $bin to the absolute path of the service binary: $1, or the debug build's; exits when it is not executable.
service_binary() {
  bin="${1:-$(swift build --show-bin-path)/dedup-vitals}"
  [ -x "$bin" ] || { echo "$e2e_name: no executable at $bin" >&2; exit 1; }
  bin="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Starts a webhook receiver that appends {"path": ..., "body": <the JSON posted>} as one line to $work/hook.jsonl for
# every POST; sets $hook to its base URL.
start_hook() {
  python3 -c '
import http.server, json, os, sys
class Hook(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with open(sys.argv[1], "a") as f:
            f.write(json.dumps({"path": self.path, "body": json.loads(body)}) + "\n")
        self.send_response(200)
        self.end_headers()
    def log_message(self, *args):
        pass
server = http.server.HTTPServer(("127.0.0.1", 0), Hook)
with open(sys.argv[2] + ".tmp", "w") as f:
    f.write(str(server.server_port))
os.rename(sys.argv[2] + ".tmp", sys.argv[2])
server.serve_forever()' "$work/hook.jsonl" "$work/hook.port" >"$work/hook.log" 2>&1 &
  pids+=($!)
  touch "$work/hook.jsonl"
  wait_for "the webhook receiver" test -s "$work/hook.port"
  hook="http://127.0.0.1:$(cat "$work/hook.port")"
}

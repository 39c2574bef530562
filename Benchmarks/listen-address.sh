# Sourced by the benchmark scripts.
#   listen_address LOG   waits up to 10 s for a service started with `--listen 127.0.0.1:0` to log its address to
#                        LOG, then prints it as HOST:PORT
listen_address() {
  for _ in $(seq 1 100); do
    grep -q 'address=127.0.0.1:' "$1" && break
    sleep 0.1
  done
  echo "127.0.0.1:$(grep -o 'address=127.0.0.1:[0-9]*' "$1" | head -1 | cut -d: -f2)"
}

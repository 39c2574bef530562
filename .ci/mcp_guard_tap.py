"""Sits between `dedup-vitals mcp-guard` and the real server in .ci/mcp-guard.sh and records every line each way
(`C> ` from the guard, `S> ` from the server) to LOG, so the relay can be compared byte for byte. It first writes a
line that is not JSON to the guard, as a broken server would.

    python mcp_guard_tap.py LOG COMMAND...
"""

import subprocess
import sys
import threading

log = open(sys.argv[1], "ab", buffering=0)
lock = threading.Lock()
server = subprocess.Popen(sys.argv[2:], stdin=subprocess.PIPE, stdout=subprocess.PIPE)


def record(prefix, line):
    with lock:
        log.write(prefix + (line if line.endswith(b"\n") else line + b"\n"))


def upstream():
    for line in sys.stdin.buffer:
        record(b"C> ", line)
        server.stdin.write(line)
        server.stdin.flush()
    server.stdin.close()


junk = b"not json from the server {\n"
record(b"S> ", junk)
sys.stdout.buffer.write(junk)
sys.stdout.buffer.flush()
threading.Thread(target=upstream, daemon=True).start()
for line in server.stdout:
    record(b"S> ", line)
    sys.stdout.buffer.write(line)
    sys.stdout.buffer.flush()
sys.exit(server.wait())

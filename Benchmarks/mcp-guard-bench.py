"""Overhead of `dedup-vitals mcp-guard` per relayed message and per guarded call (docs/mcp-guard.md#overhead).

    python3 Benchmarks/mcp-guard-bench.py PATH/TO/dedup-vitals [ROUNDS]

Runs a minimal stdio JSON-RPC server (stdlib Python, one request at a time) directly and behind the guard, and times
request/answer round trips from a client that waits for each answer before sending the next (what an agent does):

- ping: a relayed request and its relayed answer (two messages through the relay);
- read-only tools/call: relayed, parsed, not guarded;
- guarded tools/call, new key each time: lookup, `miss`, forwarded, result stored (`completed`), reported;
- guarded tools/call, repeated key: answered by the guard from the store (`hit`), never reaching the server.

Reporting goes to a port where nothing listens, so the reporter's buffer fills and drops (the relay must not notice).
Prints one table row per case: median and 99th percentile in microseconds, and the added latency against the
direct run.
"""

import json
import os
import select
import statistics
import subprocess
import sys
import tempfile
import time

SERVER = r"""
import json, sys
for line in sys.stdin:
    message = json.loads(line)
    if "id" not in message:
        continue
    if message["method"] == "tools/list":
        result = {"tools": [{"name": "write", "inputSchema": {"type": "object"}},
                            {"name": "read", "inputSchema": {"type": "object"}, "annotations": {"readOnlyHint": True}}]}
    elif message["method"] == "tools/call":
        result = {"content": [{"type": "text", "text": "done " + json.dumps(message["params"]["arguments"])}]}
    else:
        result = {}
    sys.stdout.write(json.dumps({"jsonrpc": "2.0", "id": message["id"], "result": result}) + "\n")
    sys.stdout.flush()
"""


class Peer:
    def __init__(self, command):
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0)
        self.pending = b""
        self.next_id = 0

    def request(self, method, params=None):
        self.next_id += 1
        message = {"jsonrpc": "2.0", "id": self.next_id, "method": method}
        if params is not None:
            message["params"] = params
        started = time.perf_counter()
        self.process.stdin.write(json.dumps(message).encode() + b"\n")
        while b"\n" not in self.pending:
            select.select([self.process.stdout], [], [])
            chunk = os.read(self.process.stdout.fileno(), 65536)
            if not chunk:
                sys.exit("the peer closed its output")
            self.pending += chunk
        line, self.pending = self.pending.split(b"\n", 1)
        elapsed = time.perf_counter() - started
        assert json.loads(line)["id"] == self.next_id, line
        return elapsed

    def close(self):
        self.process.stdin.close()
        self.process.wait()


def run(command, rounds):
    peer = Peer(command)
    peer.request("tools/list")
    cases = {
        "ping": lambda i: peer.request("ping"),
        "read-only tools/call": lambda i: peer.request("tools/call", {"name": "read", "arguments": {"n": i}}),
        "guarded call, new key (miss)": lambda i: peer.request("tools/call", {"name": "write", "arguments": {"n": i}}),
        "guarded call, repeat (hit)": lambda i: peer.request("tools/call", {"name": "write", "arguments": {"n": 0}}),
    }
    results = {}
    for name, case in cases.items():
        for i in range(50):  # warm-up (and the stored outcome of n=0)
            case(-1 - i if "new key" in name else i)
        samples = sorted(case(i) for i in range(rounds))
        results[name] = (statistics.median(samples), samples[int(len(samples) * 0.99) - 1])
    peer.close()
    return results


def main():
    binary = sys.argv[1]
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    with tempfile.TemporaryDirectory() as directory:
        server = os.path.join(directory, "server.py")
        with open(server, "w") as f:
            f.write(SERVER)
        config = os.path.join(directory, "guard.yml")
        with open(config, "w") as f:
            f.write(f"database: {directory}/guard.sqlite\nreport:\n  url: http://127.0.0.1:9\n  buffer: 1000\n")
        direct = run([sys.executable, server], rounds)
        guarded = run([binary, "mcp-guard", "--config", config, "--", sys.executable, server], rounds)
    print(f"{rounds} round trips per case; microseconds")
    print(f"| case | direct p50 | guard p50 | added p50 | direct p99 | guard p99 |")
    print(f"| --- | ---: | ---: | ---: | ---: | ---: |")
    for name in direct:
        (d50, d99), (g50, g99) = direct[name], guarded[name]
        print(f"| {name} | {d50 * 1e6:.0f} | {g50 * 1e6:.0f} | {(g50 - d50) * 1e6:+.0f} | {d99 * 1e6:.0f} | {g99 * 1e6:.0f} |")


if __name__ == "__main__":
    main()

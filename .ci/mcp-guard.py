"""MCP clients for .ci/mcp-guard.sh: the official Python SDK's stdio client, and a raw JSON-RPC driver for the
byte-for-byte check. Each command exits non-zero with a message when a check fails.

    python mcp-guard.py sdk     LEDGER -- GUARD-COMMAND...   duplicates, replays, concurrency, read-only, errors
    python mcp-guard.py restart LEDGER -- GUARD-COMMAND...   a new guard process replays what the first stored
    python mcp-guard.py raw     TAPLOG -- GUARD-COMMAND...   a long mixed session, compared byte for byte
"""

import asyncio
import json
import os
import select
import subprocess
import sys
import time

from mcp import Client, StdioServerParameters

GUARD_META = "dedup-vitals/mcp-guard"


def check(condition, message):
    if not condition:
        print(f"mcp-guard.py: FAIL: {message}", file=sys.stderr)
        sys.exit(1)


def lines(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return f.read().splitlines()


def text_of(result):
    return "".join(getattr(block, "text", "") for block in result.content)


def guard_meta(result):
    return (result.meta or {}).get(GUARD_META)


def client(command):
    return Client(StdioServerParameters(command=command[0], args=command[1:]))


async def sdk(ledger, command):
    async with client(command) as session:
        tools = {tool.name: tool for tool in (await session.list_tools()).tools}
        check(set(tools) >= {"append_line", "count_lines", "create_ticket", "fail_once"}, f"tools listed: {sorted(tools)}")

        # Duplicate calls execute once; the replay is the first result, marked in _meta.
        first = await session.call_tool("append_line", {"text": "one"})
        again = await session.call_tool("append_line", {"text": "one"})
        check(not first.is_error and guard_meta(first) is None, f"first call: {first}")
        check(lines(ledger).count("one") == 1, f"ledger after a duplicate: {lines(ledger)}")
        check(text_of(again) == text_of(first), f"replay {text_of(again)!r} != first {text_of(first)!r}")
        check(again.structured_content == first.structured_content, "replayed structured content differs")
        meta = guard_meta(again)
        check(meta and meta["outcome"] == "hit" and meta["replayed"] is True, f"replay _meta: {again.meta}")
        check(meta["intent_key"] == 'append_line:{"text":"one"}', f"intent key: {meta}")

        # Read-only tools pass through: executed every time, never marked.
        counts = [await session.call_tool("count_lines", {}) for _ in range(3)]
        check(all(guard_meta(c) is None for c in counts), "a read-only call was answered by the guard")
        await session.call_tool("append_line", {"text": "between"})
        after = await session.call_tool("count_lines", {})
        check(text_of(after) == str(int(text_of(counts[0])) + 1), "count_lines did not execute again")

        # Concurrent duplicates execute once; every caller gets the first result.
        results = await asyncio.gather(
            *[session.call_tool("append_line", {"text": "two", "delay": 1.0}) for _ in range(5)])
        check(lines(ledger).count("two") == 1, f"concurrent duplicates executed {lines(ledger).count('two')} times")
        check(len({text_of(r) for r in results}) == 1, f"concurrent results differ: {[text_of(r) for r in results]}")
        check(sum(1 for r in results if guard_meta(r)) == 4, "four of five concurrent calls should be replays")

        # A tool error is not stored: the next call executes.
        failed = await session.call_tool("fail_once", {"token": "t1"})
        retried = await session.call_tool("fail_once", {"token": "t1"})
        check(failed.is_error and guard_meta(failed) is None, f"fail_once first call: {failed}")
        check(not retried.is_error and text_of(retried) == "succeeded t1", f"fail_once retry: {retried}")
        check(lines(ledger).count("fail_once t1") == 2, "the call after a tool error did not execute")

        # key_fields: same conversation, other summary → mismatch, a tool error, nothing executed.
        ticket = await session.call_tool("create_ticket", {"conversation": "c-7", "summary": "printer on fire"})
        clash = await session.call_tool("create_ticket", {"conversation": "c-7", "summary": "printer is fine"})
        check(not ticket.is_error, f"create_ticket: {ticket}")
        check(clash.is_error and (guard_meta(clash) or {}).get("outcome") == "mismatch", f"mismatch: {clash}")
        check(sum(1 for line in lines(ledger) if line.startswith("ticket c-7")) == 1, "the mismatching call executed")
        # ignore_fields-free retry with the same arguments is a plain replay.
        same = await session.call_tool("create_ticket", {"summary": "printer on fire", "conversation": "c-7"})
        check(text_of(same) == text_of(ticket) and guard_meta(same)["outcome"] == "hit", f"ticket replay: {same}")
    print("mcp-guard.py sdk: duplicates, replays, concurrency, read-only, tool errors and mismatches as expected")


async def restart(ledger, command):
    before = lines(ledger)
    async with client(command) as session:
        await session.list_tools()
        replay = await session.call_tool("append_line", {"text": "one"})
        check((guard_meta(replay) or {}).get("outcome") == "hit", f"after a restart: {replay}")
        check(text_of(replay) == "appended 'one' as line 1", f"after a restart: {text_of(replay)!r}")
        fresh = await session.call_tool("append_line", {"text": "three"})
        check(guard_meta(fresh) is None, "a new call after the restart was not executed")
    check(lines(ledger) == before + ["three"], f"ledger after the restart: {lines(ledger)}")
    print("mcp-guard.py restart: the stored outcome outlived the guard")


class Raw:
    """A JSON-RPC peer speaking newline-delimited JSON to the guard's stdin/stdout, keeping every byte."""

    def __init__(self, command):
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.sent = []
        self.received = []
        self.pending = b""

    def send(self, line):
        data = line.encode() if isinstance(line, str) else line
        self.sent.append(data)
        self.process.stdin.write(data + b"\n")
        self.process.stdin.flush()

    def read_until(self, predicate, timeout=20):
        deadline = time.monotonic() + timeout
        while True:
            while b"\n" in self.pending:
                line, self.pending = self.pending.split(b"\n", 1)
                self.received.append(line)
                if predicate(line):
                    return line
            remaining = deadline - time.monotonic()
            check(remaining > 0, f"no awaited answer; received so far: {self.received[-5:]}")
            ready, _, _ = select.select([self.process.stdout], [], [], remaining)
            if ready:
                chunk = os.read(self.process.stdout.fileno(), 65536)
                check(chunk, "the guard closed its output")
                self.pending += chunk

    def request(self, id, method, params=None, spelled=None):
        message = {"jsonrpc": "2.0", "id": id, "method": method}
        if params is not None:
            message["params"] = params
        self.send(spelled or json.dumps(message))
        return self.read_until(lambda line: Raw.id_of(line) == id)

    @staticmethod
    def id_of(line):
        try:
            value = json.loads(line)
        except ValueError:
            return None
        return value.get("id") if isinstance(value, dict) else None


def raw(taplog, command):
    peer = Raw(command)
    peer.read_until(lambda line: line == b"not json from the server {")
    init = peer.request(1, "initialize", {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw ci driver", "version": "1"}})
    check(b'"result"' in init, f"initialize: {init}")
    peer.send('{"jsonrpc":"2.0","method":"notifications/initialized"}')
    peer.request(2, "tools/list")
    peer.send("this is not JSON-RPC {")
    peer.request("ping-a", "ping")
    peer.request(3, "no/such_method", {"x": 1})
    peer.send('{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":999,"reason":"test"}}')
    replays = set()
    next_id = 10
    for round in range(40):
        peer.request(next_id, "ping")
        peer.request(next_id + 1, "tools/call", {"name": "count_lines", "arguments": {}})
        text = ["raw", "é ü 日本", "tab\tquote\""][round % 3] + f"-{round}"
        first = peer.request(next_id + 2, "tools/call", {"name": "append_line", "arguments": {"text": text}})
        # The same call spelled differently: key order, spaces, a float for nothing, unicode escapes.
        spelled = ('{ "params" : { "arguments" : { "text" : %s }, "name" : "append_line" }, "method" : "tools/call",'
                   ' "id" : %d, "jsonrpc" : "2.0" }') % (json.dumps(text), next_id + 3)
        again = peer.request(next_id + 3, "tools/call", spelled=spelled)
        check(json.loads(again)["result"]["content"] == json.loads(first)["result"]["content"], f"replay of {text}")
        check(GUARD_META in json.loads(again)["result"]["_meta"], f"not a replay: {again}")
        check(GUARD_META not in json.loads(first)["result"].get("_meta", {}), f"a first call replayed: {first}")
        replays.add(next_id + 3)
        if round % 10 == 0:
            peer.request(next_id + 4, "resources/list")
            peer.request(next_id + 5, "prompts/list")
            peer.send('{"jsonrpc":"2.0","method":"notifications/roots/list_changed"}')
        next_id += 10
    peer.process.stdin.close()
    status = peer.process.wait(timeout=20)
    check(status == 0, f"the guard exited with {status} after its input closed")
    peer.received += [line for line in peer.pending.split(b"\n") if line]

    tap = [line.rstrip(b"\n") for line in open(taplog, "rb")]
    to_server = [line[3:] for line in tap if line.startswith(b"C> ")]
    from_server = [line[3:] for line in tap if line.startswith(b"S> ")]
    expected_to_server = [line for line in peer.sent if Raw.id_of(line) not in replays]
    check(to_server == expected_to_server,
          f"the server did not get the client's lines byte for byte ({len(to_server)} vs {len(expected_to_server)})")
    from_guard = [line for line in peer.received if Raw.id_of(line) not in replays]
    check(from_guard == from_server,
          f"the client did not get the server's lines byte for byte ({len(from_guard)} vs {len(from_server)})")
    check(len(peer.sent) > 150, f"a short session: {len(peer.sent)} messages")
    print(f"mcp-guard.py raw: {len(peer.sent)} client and {len(from_server)} server messages relayed byte for byte, "
          f"{len(replays)} guarded repeats answered by the guard")


def main():
    mode, path, separator, *command = sys.argv[1:]
    check(separator == "--", "usage: mcp-guard.py sdk|restart|raw PATH -- COMMAND...")
    if mode == "sdk":
        asyncio.run(sdk(path, command))
    elif mode == "restart":
        asyncio.run(restart(path, command))
    elif mode == "raw":
        raw(path, command)
    else:
        check(False, f"unknown mode {mode}")


if __name__ == "__main__":
    main()

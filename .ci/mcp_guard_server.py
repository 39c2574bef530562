"""A small MCP server written with the official Python SDK (mcp on PyPI), for .ci/mcp-guard.sh: the real server that
`dedup-vitals mcp-guard` is put in front of.

    python mcp_guard_server.py LEDGER

Tools: append_line (side effect: appends a line to LEDGER; annotated not read-only, not idempotent), count_lines
(readOnlyHint: true), create_ticket (side effect, keyed by conversation in the guard's configuration) and fail_once
(a tool error on the first call per token, success after).
"""

import os
import sys
import time

from mcp.server.mcpserver import MCPServer
from mcp.types import ToolAnnotations

ledger = sys.argv[1]
server = MCPServer("ci-ledger")


def append(line: str) -> int:
    with open(ledger, "a") as f:
        f.write(line + "\n")
    with open(ledger) as f:
        return sum(1 for _ in f)


@server.tool(annotations=ToolAnnotations(readOnlyHint=False, destructiveHint=False, idempotentHint=False))
def append_line(text: str, delay: float = 0.0) -> str:
    """Appends TEXT to the ledger after DELAY seconds (a side effect)."""
    if delay:
        time.sleep(delay)
    return f"appended {text!r} as line {append(text)}"


@server.tool(annotations=ToolAnnotations(readOnlyHint=True))
def count_lines() -> int:
    """The number of lines in the ledger (read-only)."""
    if not os.path.exists(ledger):
        return 0
    with open(ledger) as f:
        return sum(1 for _ in f)


@server.tool(annotations=ToolAnnotations(readOnlyHint=False))
def create_ticket(conversation: str, summary: str) -> str:
    """Opens a ticket (a side effect)."""
    return f"ticket {append('ticket ' + conversation + ': ' + summary)} for {conversation}"


@server.tool(annotations=ToolAnnotations(readOnlyHint=False))
def fail_once(token: str) -> str:
    """Fails the first time it is called with TOKEN, succeeds after (a side effect each time)."""
    seen = ledger + ".fail-" + token
    append("fail_once " + token)
    if not os.path.exists(seen):
        open(seen, "w").close()
        raise ValueError("first call fails")
    return "succeeded " + token


if __name__ == "__main__":
    server.run("stdio")

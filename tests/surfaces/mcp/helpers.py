"""What the MCP tests share: an org whose Nick batch is worked by its agent, the server
command line, and calling tools through the SDK's own client."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Any

from mcp import Client, StdioServerParameters
from mcp.server import MCPServer
from mcp.types import CallToolResult

BATCH = "prospects-2026-06-21.json"


def agent_run_org(org_file: Path) -> Path:
    """Make ``nick-prospecting`` a process with no ``module:`` (its run is stored for its agent,
    who records every stage by checkpoint); the org file."""
    text = org_file.read_text()
    patched, count = re.subn(r"\n    module: stages/prospecting\.py", "", text)
    assert count == 1, "the example's nick-prospecting module line moved"
    org_file.write_text(patched)
    return org_file


def started_nick_run(org_file: Path, db_url: str | None = None) -> Path:
    """The agent-run org with Nick's batch stored as run ``nick-prospecting:b1`` (by the CLI,
    as a person or a scheduler would start it); the org file."""
    from tests.surfaces.cli_helpers import orgplane

    org = agent_run_org(org_file)
    db = ["--db", db_url] if db_url else []
    batch = str(org.parent / "batches" / BATCH)
    started = orgplane(
        "--org", str(org), *db, "run", "start", "nick-prospecting", batch, "--batch", "b1"
    )
    assert started.returncode == 0, started.stderr
    return org


def server_params(org_file: Path, db_url: str, *args: str) -> StdioServerParameters:
    """``python -m orgplane --org ORG --db DB mcp ARGS`` as the SDK's stdio client starts it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORGPLANE_")}
    return StdioServerParameters(
        command=sys.executable,
        args=["-m", "orgplane", "--org", str(org_file), "--db", db_url, "mcp", *args],
        env=env,
    )


async def call(client: Client, name: str, args: dict[str, Any] | None = None) -> CallToolResult:
    """Call a tool; the test fails on a tool error unless it expects one (see ``refused``)."""
    result = await client.call_tool(name, args or {})
    assert not result.is_error, f"{name} failed: {text_of(result)}"
    return result


async def refused(client: Client, name: str, args: dict[str, Any] | None = None) -> str:
    """Call a tool expected to be refused; its message."""
    result = await client.call_tool(name, args or {})
    assert result.is_error, f"{name} was not refused: {text_of(result)}"
    return text_of(result)


def text_of(result: CallToolResult) -> str:
    return "\n".join(getattr(block, "text", "") for block in result.content)


async def tool_names(server: MCPServer | Client) -> list[str]:
    if isinstance(server, Client):
        return sorted(t.name for t in (await server.list_tools()).tools)
    return sorted(t.name for t in await server.list_tools())

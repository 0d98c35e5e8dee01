"""``orgplane mcp``: the MCP server over stdio, for Claude Desktop, Cursor or any MCP client.
Thin: the tools live in :mod:`orgplane.surfaces.mcp`, every rule in the service."""

from __future__ import annotations

import typer

from orgplane.surfaces.cli import app


@app.command()
def mcp(
    ctx: typer.Context,
    allow_writes: bool = typer.Option(
        False,
        "--allow-writes",
        help="Also offer the write tools (checkpoint, publish, metric, gate, report, ack), "
        "each acting as --seat.",
    ),
    seat: str | None = typer.Option(
        None, "--seat", help="The seat every write acts as (required with --allow-writes)."
    ),
) -> None:
    """Serve orgplane's tools over MCP on stdin/stdout (read-only unless --allow-writes).
    Nothing but the protocol is written to stdout; errors before the start go to stderr."""
    import anyio

    from orgplane.surfaces.mcp.server import build_server, shared_session

    session = ctx.obj
    session.org()  # a missing or broken org file is bad input now, not a failed tool call
    server = build_server(shared_session(session), allow_writes=allow_writes, seat=seat)
    anyio.run(server.run_stdio_async)

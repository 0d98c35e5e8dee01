"""Building the MCP server: the one place a tool call becomes a service call.

``build_server(session_factory, allow_writes=..., seat=...)`` is the stdio server (and the one
tests drive in-process): every call acts as ``seat``. :mod:`.http` builds the same tools with a
different way of finding the acting seat (the request's bearer token), so both transports offer
the same tools by construction.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from mcp.types import CallToolResult, TextContent

from orgplane.errors import OrgplaneError, PermissionDenied, UsageError
from orgplane.service.models import Result
from orgplane.service.session import Session

SessionFactory = Callable[[], Session]
"""Gives the session a tool call acts on. The server calls it once per call and never closes
what it returns: hand back one long-lived session (see :func:`shared_session`)."""

SeatOf = Callable[[Context[Any, Any]], str | None]
"""The seat a call acts as (None: no seat, so reads only), from the call's context."""

INSTRUCTIONS = (
    "orgplane holds an organisation's chart (human and agent seats), the shared outputs seats "
    "produce for each other, their staged processes and runs, the scorecard and the decisions "
    "taken on failures. Start with show_chart or list_seats; show_seat gives the rules (SOPs) a "
    "seat works under. Write tools (when offered) act as one seat and only on its own data."
)


def shared_session(session: Session) -> SessionFactory:
    """A factory handing out ``session`` for the server's life, its org file reloaded when it
    changes on disk (a broken new version keeps the last good one) and the store opened and
    synced under a lock, so concurrent calls (over HTTP) never open it twice."""
    lock = threading.Lock()

    def factory() -> Session:
        with lock:
            session.refresh_org()
            session.store()  # opens and syncs on first use or after a change; else returns
        return session

    return factory


@dataclass(frozen=True)
class Runtime:
    """What every tool of one server shares: where sessions come from, how the acting seat is
    found, and the call itself (service in a worker thread, errors mapped, text + structure)."""

    session_factory: SessionFactory
    seat_of: SeatOf

    async def call(
        self,
        ctx: Context[Any, Any],
        render: Callable[[Any], str],
        use_case: Callable[..., Result],
        *args: Any,
        act: bool = False,
        **kwargs: Any,
    ) -> CallToolResult:
        """Run ``use_case(session, *args, **kwargs)`` off the event loop; its result as the
        compact text ``render`` gives plus the structured content of its model. ``act``: a
        write, passed ``actor=`` the call's seat, and refused when the call carries none (a
        write never runs as the local operator)."""
        import anyio.to_thread

        from orgplane.surfaces.mcp.errors import tool_message

        if act:
            seat = self.seat_of(ctx)
            if seat is None:
                return refusal(
                    "not allowed: this call carries no seat; writes act as a seat (start "
                    "'orgplane mcp --allow-writes --seat SEAT', or send that seat's bearer token)"
                )
            kwargs["actor"] = seat

        def work() -> Result:
            return use_case(self.session_factory(), *args, **kwargs)

        try:
            result = await anyio.to_thread.run_sync(work)
        except OrgplaneError as exc:
            return refusal(tool_message(exc))
        return CallToolResult(
            content=[TextContent(type="text", text=render(result))],
            structured_content=result.model_dump(mode="json"),
        )


def refusal(message: str) -> CallToolResult:
    """A refused call: its message for the model to read and act on, flagged as an error (no
    structured content: there is no result)."""
    return CallToolResult(content=[TextContent(type="text", text=message)], is_error=True)


def build_server(
    session_factory: SessionFactory, *, allow_writes: bool = False, seat: str | None = None
) -> MCPServer:
    """The MCP server: the read tools always, the write tools only with ``allow_writes``, each
    write acting as ``seat`` (required with ``allow_writes``; UsageError without it, and
    PermissionDenied when the org has no such active seat)."""
    if allow_writes and seat is None:
        raise UsageError("--allow-writes needs --seat SEAT: the seat every write acts as")
    if seat is not None:
        from orgplane.service.permissions import acting_seat

        try:
            acting_seat(session_factory().org(), seat)
        except PermissionDenied as exc:
            raise PermissionDenied(f"--seat {seat}: {exc}", actor=seat) from None
    return make_server(Runtime(session_factory, lambda _ctx: seat), allow_writes=allow_writes)


def make_server(runtime: Runtime, *, allow_writes: bool) -> MCPServer:
    """The server with every tool registered over ``runtime`` (both transports use this)."""
    from importlib.metadata import version

    from orgplane.surfaces.mcp.tools import register_tools

    server: MCPServer = MCPServer(
        name="orgplane",
        title="orgplane",
        version=version("orgplane"),
        instructions=INSTRUCTIONS,
        log_level="WARNING",
    )
    register_tools(server, runtime, allow_writes=allow_writes)
    return server

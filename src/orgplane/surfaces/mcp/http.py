"""The MCP server over streamable HTTP, each call acting as the seat of its bearer token.

``mcp_http_app(session_factory, seat_for_token)`` builds the same tools as the stdio server
(:func:`orgplane.surfaces.mcp.server.make_server`) and puts a bearer-token check in front: a
request without a token that resolves to a seat gets a 401 (unless ``public_read``, where it
may read and every write is refused), and every tool call acts as the token's seat, so a seat
writes only its own data (the service's permissions decide, as for any surface).

``orgplane serve`` mounts it with :func:`mount_mcp` (the endpoint at ``/mcp`` and the session
manager's life inside the app's lifespan); ``McpHttpApp.app`` serves it alone.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any

from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from orgplane.surfaces.mcp.server import Runtime, SessionFactory, make_server

SeatForToken = Callable[[str], str | None]
"""Resolves a bearer token to its seat (None: unknown or revoked); may block (it is called in
a worker thread). ``surfaces/http/auth.seat_for_token`` bound to a session is the real one."""

SEAT_KEY = "orgplane.seat"
"""Where the token check leaves the request's seat in the ASGI scope (never a header's text)."""

METHODS = ["GET", "POST", "DELETE"]


@dataclass(frozen=True)
class McpHttpApp:
    """The streamable-HTTP MCP endpoint and what it needs to run."""

    server: MCPServer
    endpoint: ASGIApp
    """The ASGI app to route ``/mcp`` to (the token check in front of the SDK's transport)."""
    app: Starlette
    """A whole app serving ``endpoint`` at its path, with its lifespan: run it alone."""

    def lifespan(self) -> AbstractAsyncContextManager[None]:
        """The session manager's life: enter it in the lifespan of the app that mounts
        ``endpoint`` (once per app)."""
        return self.server.session_manager.run()


def mcp_http_app(
    session_factory: SessionFactory,
    seat_for_token: SeatForToken,
    *,
    allow_writes: bool = True,
    public_read: bool = False,
    path: str = "/mcp",
    host: str = "127.0.0.1",
) -> McpHttpApp:
    """The MCP tools over streamable HTTP (stateless: every request stands alone), each call
    acting as the seat of the request's ``Authorization: Bearer`` token. ``host`` is where it
    listens: on a loopback address the SDK refuses requests whose Host or Origin is not
    loopback (DNS rebinding)."""
    from mcp.server.streamable_http_manager import StreamableHTTPASGIApp

    server = make_server(Runtime(session_factory, _request_seat), allow_writes=allow_writes)
    server.streamable_http_app(streamable_http_path=path, stateless_http=True, host=host)
    endpoint = BearerSeat(
        StreamableHTTPASGIApp(server.session_manager), seat_for_token, public_read
    )

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        async with server.session_manager.run():
            yield

    app = Starlette(routes=[Route(path, endpoint=endpoint, methods=METHODS)], lifespan=lifespan)
    return McpHttpApp(server=server, endpoint=endpoint, app=app)


def mount_mcp(app: Starlette, mcp: McpHttpApp, path: str = "/mcp") -> None:
    """Serve ``mcp`` at ``path`` of ``app`` (a FastAPI app is a Starlette app), its session
    manager running inside ``app``'s lifespan, around whatever lifespan ``app`` had."""
    app.router.routes.append(Route(path, endpoint=mcp.endpoint, methods=METHODS))
    before = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(inner: Any) -> AsyncIterator[Any]:
        async with mcp.lifespan(), before(inner) as state:
            yield state

    app.router.lifespan_context = lifespan


def _request_seat(ctx: Context[Any, Any]) -> str | None:
    request = ctx.request_context.request
    scope = getattr(request, "scope", None)
    seat: object = scope.get(SEAT_KEY) if isinstance(scope, dict) else None
    return seat if isinstance(seat, str) else None


class BearerSeat:
    """ASGI middleware: resolve the bearer token to a seat, or answer 401 before the MCP
    transport sees the request."""

    def __init__(self, app: ASGIApp, seat_for_token: SeatForToken, public_read: bool) -> None:
        self.app = app
        self.seat_for_token = seat_for_token
        self.public_read = public_read

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        import anyio.to_thread

        token = _bearer(scope)
        seat: str | None = None
        if token is not None:
            seat = await anyio.to_thread.run_sync(self.seat_for_token, token)
            if seat is None:
                await _unauthorized(
                    send,
                    "the bearer token is unknown or revoked; create one with "
                    "'orgplane token create SEAT'",
                )
                return
        elif not self.public_read:
            await _unauthorized(
                send,
                "send 'Authorization: Bearer TOKEN' with a seat's token "
                "('orgplane token create SEAT' prints one)",
            )
            return
        scope[SEAT_KEY] = seat
        await self.app(scope, receive, send)


def _bearer(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            text = bytes(value).decode("latin-1")
            if text[:7].lower() == "bearer " and text[7:].strip():
                return text[7:].strip()
            return None
    return None


async def _unauthorized(send: Send, message: str) -> None:
    import json

    body = json.dumps({"error": {"code": "unauthorized", "message": message}}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 401,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"www-authenticate", b'Bearer realm="orgplane"'),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})

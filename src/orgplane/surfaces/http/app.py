"""The one ASGI app of ``orgplane serve``: the HTTP API under ``/api``, ``/metrics``, OpenAPI
at ``/openapi.json``, and the hooks the other surfaces plug into.

Hooks on ``app.state`` (for the MCP server and the dashboard, wired by ``serve``):

- ``session_factory()``: the shared :class:`Session`, its org reloaded when the file changed;
- ``seat_for_token(token)``: the seat a bearer token acts as, or None;
- ``public_read``: whether reads are open without a token;
- ``mount_mcp(asgi_app, lifespan=None)``: mount the MCP streamable-HTTP app at ``/mcp`` (its
  ``lifespan``, an async context manager factory such as the session manager's ``run``, is
  entered while the server runs);
- ``include_dashboard(router)``: add the dashboard's ``APIRouter`` at ``/``.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, FastAPI
from fastapi.responses import Response
from starlette.types import ASGIApp

from orgplane.service.session import Session
from orgplane.surfaces.http import errors, reads, writes
from orgplane.surfaces.http.deps import ERRORS, reader
from orgplane.surfaces.http.sessions import SharedSession

LifespanFactory = Callable[[], contextlib.AbstractAsyncContextManager[Any]]

DESCRIPTION = """\
The orgplane HTTP API: the same reads and writes as the CLI and the MCP server, over the
service layer. Send `Authorization: Bearer <token>` (create one with
`orgplane token create SEAT`); reads need any valid token unless the server runs with
`--public-read`, writes always act as the token's seat. Errors are
`{"error": TYPE, "message": ONE LINE}`.
"""


def create_app(
    org_path: str | Path | None, db: str | None, *, public_read: bool = False
) -> FastAPI:
    """The API app on the org file ``org_path`` and store ``db`` (None: as the CLI resolves
    them). The org is loaded and the store opened now, so bad input fails before serving."""
    from importlib.metadata import version

    sessions = SharedSession(org_path, db)
    sessions.warm()
    lifespans: list[LifespanFactory] = []

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            for factory in lifespans:
                await stack.enter_async_context(factory())
            yield
        sessions.close()

    app = FastAPI(
        title="orgplane",
        version=version("orgplane"),
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url="/api/docs",
        redoc_url=None,
    )
    errors.install(app)
    app.include_router(reads.router)
    app.include_router(writes.router)
    app.include_router(_metrics_router())

    def seat_for(token: str) -> str | None:
        from orgplane.surfaces.http.auth import seat_for_token

        return seat_for_token(sessions.get(), token)

    def mount_mcp(asgi_app: ASGIApp, lifespan: LifespanFactory | None = None) -> None:
        if lifespan is not None:
            lifespans.append(lifespan)
        app.mount("/mcp", asgi_app)

    def include_dashboard(router: APIRouter) -> None:
        app.include_router(router)

    app.state.sessions = sessions
    app.state.session_factory = sessions.get
    app.state.seat_for_token = seat_for
    app.state.public_read = public_read
    app.state.lifespans = lifespans
    app.state.mount_mcp = mount_mcp
    app.state.include_dashboard = include_dashboard
    return app


def _metrics_router() -> APIRouter:
    router = APIRouter(tags=["metrics"], responses=ERRORS)

    @router.get(
        "/metrics",
        summary="Prometheus metrics",
        response_class=Response,
        responses={200: {"content": {"text/plain": {}}, "description": "text exposition"}},
    )
    def get_metrics(session: Session = Depends(reader)) -> Response:
        """Outputs by status, runs by state, checkpoints, events by kind, decisions by action,
        the decision latency histogram and notifications by status, counted from the store."""
        from orgplane.service.telemetry import store_figures
        from orgplane.surfaces.http.metrics import CONTENT_TYPE, exposition

        return Response(exposition(store_figures(session)), media_type=CONTENT_TYPE)

    return router

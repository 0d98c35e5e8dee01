"""Running the app under uvicorn: bind first (a port in use is bad input, not a log line), then
serve until SIGINT or SIGTERM.

``served_app`` is where the other surfaces join the API: the MCP server's streamable HTTP app
at ``/mcp`` and the dashboard's router at ``/`` (``app.state.include_dashboard``), with
``/signin`` so a browser can act as a seat (its token kept in a SameSite=Strict cookie).
"""

from __future__ import annotations

import socket
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request

from orgplane.errors import UsageError
from orgplane.surfaces.http.app import create_app


def served_app(
    org_path: str | Path | None,
    db: str | None,
    *,
    public_read: bool,
    host: str = "127.0.0.1",
) -> FastAPI:
    """The app ``orgplane serve`` runs: the API, the dashboard at ``/`` under the API's rules
    (reads need a token unless ``public_read``; an acknowledgement acts as the token's seat, so
    it needs a person's token), and the MCP server over streamable HTTP at ``/mcp``, each call
    acting as its token's seat (``host`` is where it listens: the SDK's rebinding guard)."""
    from orgplane.surfaces.http.deps import reader, writer
    from orgplane.surfaces.mcp.http import mcp_http_app, mount_mcp
    from orgplane.surfaces.web import router

    app = create_app(org_path, db, public_read=public_read)

    def may_read(request: Request) -> None:
        reader(request)

    def acting_seat(request: Request) -> str | None:
        return writer(request).seat

    app.state.include_dashboard(
        router(app.state.session_factory, reader=may_read, actor=acting_seat)
    )
    app.include_router(signin_router())
    mcp = mcp_http_app(
        app.state.session_factory,
        app.state.seat_for_token,
        allow_writes=True,
        public_read=public_read,
        host=host,
    )
    mount_mcp(app, mcp)
    return app


def signin_router() -> APIRouter:
    """``/signin`` and ``/signout`` for a browser: a seat's token, checked, kept in an HttpOnly,
    SameSite=Strict cookie, so the dashboard's pages and its acknowledge button act as that
    seat as the API does with a bearer header."""
    from html import escape

    from fastapi.responses import HTMLResponse, RedirectResponse

    from orgplane.surfaces.http.auth import COOKIE, seat_for_token
    from orgplane.surfaces.http.deps import shared

    signin = APIRouter()

    def page(message: str = "", status: int = 200) -> HTMLResponse:
        note = f"<p role='alert'>{escape(message)}</p>" if message else ""
        return HTMLResponse(
            "<!doctype html><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            "<title>orgplane: sign in</title><h1>Sign in</h1>"
            f"{note}<form method='post' action='signin'>"
            "<label>Token <input name='token' type='password' autocomplete='off' "
            "required></label> <button>Sign in</button></form>"
            "<p>Create one with <code>orgplane token create SEAT</code>.</p>",
            status_code=status,
        )

    @signin.get("/signin", include_in_schema=False)
    def signin_form() -> HTMLResponse:
        return page()

    @signin.post("/signin", include_in_schema=False, response_model=None)
    async def signin_post(request: Request) -> HTMLResponse | RedirectResponse:
        from urllib.parse import parse_qs

        from starlette.concurrency import run_in_threadpool

        body = await request.body()
        if len(body) > 1024:
            return page("A token is shorter than that.", 413)
        token = (parse_qs(body.decode("utf-8", "replace")).get("token") or [""])[0].strip()
        seat = (
            await run_in_threadpool(seat_for_token, shared(request).get(), token) if token else None
        )
        if seat is None:
            return page("That token is unknown, revoked or its seat retired.", 401)
        answer = RedirectResponse("./", status_code=303)
        answer.set_cookie(COOKIE, token, httponly=True, samesite="strict")
        return answer

    @signin.post("/signout", include_in_schema=False)
    def signout() -> RedirectResponse:
        answer = RedirectResponse("signin", status_code=303)
        answer.delete_cookie(COOKIE)
        return answer

    return signin


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host``:``port``; UsageError naming the fix when it cannot be had."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise UsageError(
            f"--host {host!r}: not an address this machine knows ({exc.strerror})"
        ) from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise UsageError(
            f"cannot listen on {host}:{port} ({exc.strerror}); choose another with --port"
        ) from None
    sock.listen(2048)
    return sock


def run(
    org_path: str | Path | None, db: str | None, *, host: str, port: int, public_read: bool
) -> None:
    """Serve until SIGTERM (then exit 0, requests in flight finished) or SIGINT (exit 130)."""
    import signal

    import uvicorn

    app = served_app(org_path, db, public_read=public_read, host=host)
    sock = bind(host, port)
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
    # uvicorn shuts down gracefully, then raises the signal again under the handler it found:
    # ours makes that a clean exit rather than death by signal.
    previous = signal.signal(signal.SIGTERM, _stopped)
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        signal.signal(signal.SIGTERM, previous)


def _stopped(_sig: int, _frame: object) -> None:
    raise SystemExit(0)

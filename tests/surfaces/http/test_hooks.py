"""The hooks the other surfaces plug into: an ASGI app mounted at /mcp with its lifespan
entered while the server runs, a dashboard router at /, the shared session and token check."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import PlainTextResponse

from orgplane.service.session import Session
from orgplane.surfaces.http import create_app
from tests.surfaces.http.conftest import prepare
from tests.surfaces.http.server import serving


def test_mcp_and_dashboard_mount_beside_the_api(agency: Path, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'hooks.db'}"
    session, tokens = prepare(agency, db, tmp_path)
    app = create_app(agency, db)
    entered: list[str] = []

    @contextlib.asynccontextmanager
    async def mcp_lifespan() -> AsyncIterator[None]:
        entered.append("start")
        yield
        entered.append("stop")

    mcp = FastAPI()

    @mcp.post("/")
    def mcp_call(request: Request) -> PlainTextResponse:
        # What the MCP part does: resolve the caller's bearer token to the seat it acts as.
        token = request.headers["authorization"].removeprefix("Bearer ")
        return PlainTextResponse(str(app.state.seat_for_token(token)))

    dashboard = APIRouter()

    @dashboard.get("/", response_class=PlainTextResponse)
    def home() -> str:
        shared: Session = app.state.session_factory()
        return shared.org().name

    app.state.mount_mcp(mcp, lifespan=mcp_lifespan)
    app.state.include_dashboard(dashboard)
    assert app.state.public_read is False
    with serving(app) as url, httpx.Client(base_url=url, timeout=30) as client:
        assert entered == ["start"]
        headers = {"Authorization": f"Bearer {tokens['nick']}"}
        assert client.post("/mcp/", headers=headers).text == "nick"
        assert client.get("/").text == session.org().name
        assert client.get("/api/chart", headers=headers).status_code == 200
    assert entered == ["start", "stop"]
    session.close()


def test_serve_puts_the_dashboard_at_the_root_under_the_api_s_rules(
    agency: Path, tmp_path: Path
) -> None:
    from orgplane.surfaces.http.serve import served_app

    db = f"sqlite:///{tmp_path / 'served.db'}"
    session, tokens = prepare(agency, db, tmp_path)
    app = served_app(agency, db, public_read=False)
    radar = {"Authorization": f"Bearer {tokens['radar']}"}
    with serving(app) as url, httpx.Client(base_url=url, timeout=60) as client:
        assert client.get("/").status_code == 401
        page = client.get("/", headers=radar)
        assert page.status_code == 200, page.text
        assert "radar" in page.text
        # The dashboard closes the session it borrows after each page: the API still works.
        assert client.get("/api/chart", headers=radar).status_code == 200
    with serving(served_app(agency, db, public_read=True)) as url:
        assert httpx.get(f"{url}/", timeout=60).status_code == 200
    session.close()


def test_serve_offers_the_mcp_tools_at_mcp_each_call_as_its_token_seat(
    agency: Path, tmp_path: Path
) -> None:
    import anyio

    from orgplane.surfaces.http.serve import served_app
    from tests.surfaces.mcp.helpers import call, text_of, tool_names
    from tests.surfaces.mcp.test_http import client

    db = f"sqlite:///{tmp_path / 'served.db'}"
    session, tokens = prepare(agency, db, tmp_path)
    found: dict[str, object] = {}

    async def ask(url: str) -> None:
        async with client(url, tokens["radar"]) as radar:
            found["tools"] = await tool_names(radar)
            found["chart"] = text_of(await call(radar, "show_chart", {}))

    with serving(served_app(agency, db, public_read=False)) as url:
        assert httpx.post(f"{url}/mcp", json={}, timeout=60).status_code == 401
        anyio.run(ask, f"{url}/mcp")
    assert "show_chart" in found["tools"] and "record_checkpoint" in found["tools"]  # type: ignore[operator]
    assert "radar" in str(found["chart"])
    session.close()


def test_a_browser_signs_in_with_a_token_and_acknowledges_as_that_seat(
    agency: Path, tmp_path: Path
) -> None:
    from sqlalchemy import select

    from orgplane.respond.events import FailureEvent, record_event
    from orgplane.service.decisions import decide_once
    from orgplane.store.tables import decisions
    from orgplane.store.types import utcnow
    from orgplane.surfaces.http.serve import served_app

    db = f"sqlite:///{tmp_path / 'served.db'}"
    session, tokens = prepare(agency, db, tmp_path)
    with session.store().write() as conn:
        record_event(
            conn,
            FailureEvent(
                kind="unhandled_error",
                occurred_at=utcnow(),
                subject_kind="run",
                subject_id="nick-prospecting:web",
                seat_id="nick",
                message="LM-503",
            ),
        )
    [decided] = decide_once(session, send=False).decisions
    with serving(served_app(agency, db, public_read=False)) as url:
        with httpx.Client(base_url=url, timeout=60) as browser:
            assert browser.get("/").status_code == 401
            assert browser.post("/signin", data={"token": "orgplane_nope"}).status_code == 401
            signed = browser.post("/signin", data={"token": tokens["radar"]})
            assert signed.status_code == 303
            cookie = signed.headers["set-cookie"].lower()
            assert "httponly" in cookie and "samesite=strict" in cookie
            assert browser.get("/").status_code == 200  # the cookie is the token now
            refused = browser.post(f"/decisions/{decided.id}/ack", data={"note": "mine"})
            assert refused.status_code == 403  # Radar is an agent: it takes a person
        with httpx.Client(base_url=url, timeout=60) as browser:
            browser.post("/signin", data={"token": tokens["ceo"]})
            acked = browser.post(f"/decisions/{decided.id}/ack", data={"note": "on it"})
            assert acked.status_code in (200, 303), acked.text
            browser.post("/signout")
            assert browser.get("/").status_code == 401
    with session.store().read() as conn:
        row = conn.execute(select(decisions).where(decisions.c.id == decided.id)).one()
    assert row.ack_note == "on it" and row.acked_at is not None
    session.close()

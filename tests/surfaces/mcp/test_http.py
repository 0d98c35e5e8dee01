"""The MCP tools over streamable HTTP under a real uvicorn on 127.0.0.1, each call acting as
the seat of its bearer token (a dict-backed resolver stands in for the token store), and the
parity of the stdio and HTTP servers."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
import uvicorn
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from orgplane.service.session import Session
from orgplane.surfaces.mcp.http import McpHttpApp, mcp_http_app, mount_mcp
from orgplane.surfaces.mcp.server import build_server, shared_session
from tests.surfaces.cli_helpers import orgplane
from tests.surfaces.mcp.helpers import call, refused, started_nick_run, text_of, tool_names
from tests.surfaces.mcp.test_tools import CALLS, RUN

TOKENS = {"tok-nick": "nick", "tok-ceo": "ceo", "tok-tally": "tally"}


@pytest.fixture
def nick_org(agency: Path, db_url: str) -> Path:
    return started_nick_run(agency, db_url)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def serve_app() -> Iterator[Any]:
    """Start an ASGI app under uvicorn on 127.0.0.1 in a thread; its base URL."""
    servers: list[tuple[uvicorn.Server, threading.Thread]] = []

    def start(app: Any) -> str:
        port = _free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while not server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)
        servers.append((server, thread))
        return f"http://127.0.0.1:{port}"

    yield start
    for server, thread in servers:
        server.should_exit = True
        thread.join(timeout=10)


def _app(org: Path, db_url: str, **kwargs: Any) -> McpHttpApp:
    factory = shared_session(Session.open(org, db_url))
    return mcp_http_app(factory, TOKENS.get, **kwargs)


def client(url: str, token: str | None) -> Client:
    headers = {"Authorization": f"Bearer {token}"} if token else None
    return Client(streamable_http_client(url, http_client=create_mcp_http_client(headers=headers)))


def test_every_tool_over_http_acts_as_the_token_seat(
    nick_org: Path, db_url: str, serve_app: Any
) -> None:
    url = serve_app(_app(nick_org, db_url).app) + "/mcp"

    async def go() -> None:
        async with client(url, "tok-nick") as nick:
            for name, args in CALLS:
                result = await call(nick, name, args)
                assert result.structured_content is not None, name
            message = await refused(
                nick, "publish_output", {"output_id": "dash-analysis", "content": "{}"}
            )
            assert "belongs to seat dash" in message
            assert "takes a person" in await refused(nick, "ack_decision", {"decision_id": 1})
        async with client(url, "tok-tally") as tally:
            await call(tally, "push_metric", {"metric_id": "leads-booked", "value": 4})
            assert "nick-prospecting" in await refused(
                tally, "record_checkpoint", {"run_id": RUN, "record": "2", "stage": "validate"}
            )

    anyio.run(go)
    decided = orgplane("--org", str(nick_org), "--db", db_url, "decide", "--once", "--no-send")
    assert decided.returncode in (0, 1), decided.stderr

    async def ack() -> None:
        async with client(url, "tok-ceo") as ceo:
            acked = await call(ceo, "ack_decision", {"decision_id": 1})
            assert acked.structured_content and acked.structured_content["state"] == "acknowledged"
            assert "decision 1" in text_of(await call(ceo, "show_decision", {"decision_id": 1}))

    anyio.run(ack)


def test_a_request_without_a_valid_token_is_refused_before_the_transport(
    nick_org: Path, db_url: str, serve_app: Any
) -> None:
    url = serve_app(_app(nick_org, db_url).app) + "/mcp"
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    headers = {"Accept": "application/json, text/event-stream"}
    for auth in (None, "Bearer revoked-or-never-made", "Basic bmljazpwdw==", "Bearer"):
        sent = {**headers, **({"Authorization": auth} if auth else {})}
        answer = httpx.post(url, json=body, headers=sent, timeout=10)
        assert answer.status_code == 401, (auth, answer.text)
        assert answer.headers["www-authenticate"].startswith("Bearer")
        assert "orgplane token create" in answer.json()["error"]["message"]


def test_public_read_lets_reads_through_and_refuses_every_write(
    nick_org: Path, db_url: str, serve_app: Any
) -> None:
    url = serve_app(_app(nick_org, db_url, public_read=True).app) + "/mcp"

    async def go() -> None:
        async with client(url, None) as anyone:
            assert "nick" in text_of(await call(anyone, "show_chart"))
            message = await refused(
                anyone, "record_checkpoint", {"run_id": RUN, "record": "1", "stage": "validate"}
            )
            assert message.startswith("not allowed: this call carries no seat")

    anyio.run(go)


def test_stdio_and_http_servers_offer_the_same_tools(nick_org: Path, db_url: str) -> None:
    session = shared_session(Session.open(nick_org, db_url))
    for writes in (False, True):
        stdio = build_server(session, allow_writes=writes, seat="nick" if writes else None)
        http = mcp_http_app(session, TOKENS.get, allow_writes=writes).server
        stdio_tools = anyio.run(stdio.list_tools)
        http_tools = anyio.run(http.list_tools)
        assert anyio.run(tool_names, stdio) == anyio.run(tool_names, http)
        for a, b in zip(stdio_tools, http_tools, strict=True):
            assert a.model_dump() == b.model_dump(), a.name  # schemas, hints, descriptions


def test_mount_mcp_serves_it_inside_another_app_with_its_lifespan(
    nick_org: Path, db_url: str, serve_app: Any
) -> None:
    entered: list[str] = []

    async def home(_request: Any) -> PlainTextResponse:
        return PlainTextResponse("dashboard")

    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def own_lifespan(_app: Any) -> Any:
        entered.append("app")
        yield

    host = Starlette(routes=[Route("/", home)], lifespan=own_lifespan)
    mount_mcp(host, _app(nick_org, db_url))
    base = serve_app(host)
    assert httpx.get(base + "/", timeout=10).text == "dashboard"
    assert entered == ["app"]

    async def go() -> None:
        async with client(base + "/mcp", "tok-nick") as nick:
            assert "show_chart" in await tool_names(nick)

    anyio.run(go)


def test_concurrent_clients_each_record_their_checkpoint(
    nick_org: Path, db_url: str, serve_app: Any
) -> None:
    url = serve_app(_app(nick_org, db_url).app) + "/mcp"

    async def one(record: int) -> None:
        async with client(url, "tok-nick") as nick:
            await call(
                nick, "record_checkpoint", {"run_id": RUN, "record": record, "stage": "validate"}
            )

    async def go() -> None:
        async with anyio.create_task_group() as group:
            for record in range(1, 13):
                group.start_soon(one, record)

    anyio.run(go)
    status = orgplane("--org", str(nick_org), "--db", db_url, "run", "status", RUN, "--json")
    assert json.loads(status.stdout)["stages"]["validate"]["done"] == 12

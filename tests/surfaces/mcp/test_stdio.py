"""``orgplane mcp`` as a real subprocess, driven by the SDK's stdio client: every tool listed
and called; the founder's chart question; and Nick's batch worked by checkpoints alone over
MCP, cut off midway (the server killed) and finished by a second session, nothing redone."""

from __future__ import annotations

import os
import re
import signal
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from sqlalchemy import select

from orgplane.service.session import Session
from orgplane.store.tables import run_checkpoints
from orgplane.surfaces.mcp.tools import WRITE_TOOLS
from tests.surfaces.cli_helpers import orgplane
from tests.surfaces.mcp.helpers import (
    call,
    refused,
    server_params,
    started_nick_run,
    text_of,
    tool_names,
)
from tests.surfaces.mcp.test_tools import CALLS, RUN

pytestmark = pytest.mark.slow


@pytest.fixture
def nick_org(agency: Path, db_url: str) -> Path:
    return started_nick_run(agency, db_url)


def test_every_tool_is_listed_and_called_over_stdio(nick_org: Path, db_url: str) -> None:
    async def go() -> None:
        async with Client(server_params(nick_org, db_url)) as client:
            read_only = await tool_names(client)
        async with Client(server_params(nick_org, db_url, "--allow-writes", "--seat", "nick")) as c:
            names = await tool_names(c)
            assert set(names) - set(read_only) == WRITE_TOOLS
            for name, args in CALLS:
                result = await call(c, name, args)
                assert result.structured_content is not None, name
                assert text_of(result).strip(), name
            assert "belongs to seat tally" in await refused(
                c, "push_metric", {"metric_id": "leads-booked", "value": 1}
            )
            assert "takes a person" in await refused(c, "ack_decision", {"decision_id": 1})
            assert "not found" in await refused(c, "show_decision", {"decision_id": 99})
            assert "no hand-off #9" in await refused(
                c, "resolve_handoff", {"handoff_id": 9, "outcome": "done"}
            )
            assert "not found" in await refused(c, "show_incident", {"incident_id": 99})
            called = {n for n, _ in CALLS} | {"push_metric", "ack_decision", "show_decision"}
            called |= {"resolve_handoff", "show_incident"}
            assert called == set(names)

    anyio.run(go)


def test_asked_for_the_chart_the_answer_names_every_seat_and_its_coverage(
    nick_org: Path, db_url: str
) -> None:
    async def go() -> str:
        async with Client(server_params(nick_org, db_url)) as client:
            return text_of(await call(client, "show_chart"))

    chart = anyio.run(go)
    org = Session.open(nick_org).org()
    for seat in org.seats:
        assert re.search(rf"\b{re.escape(seat)}\b", chart), f"{seat} missing from the chart"
    covered = re.search(r"seats whose outputs all have coverage protocols: (.*)", chart)
    readers = re.search(r"seats declaring a protocol for an input they read: (.*)", chart)
    assert covered and readers
    assert {"nick", "pepper"} <= set(covered.group(1).split(", "))
    assert set(readers.group(1).split(", ")) == {s.id for s in org.active_seats() if s.inputs}


def _server_pids() -> list[int]:
    """The ``orgplane ... mcp`` processes this test started (children of this process)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == os.getpid() and b"mcp" in cmdline and b"orgplane" in cmdline:
            pids.append(int(entry.name))
    return pids


async def _work(client: Client, budget: int | None) -> int:
    """Nick's agent: read the run's status, then record the next stage of each record that is
    not done until the batch is finished (or ``budget`` checkpoints are spent); how many."""
    status = (await call(client, "show_run", {"run_id": RUN})).structured_content
    assert status is not None
    recorded = 0
    while True:
        work = await call(client, "list_pending_records", {"run_id": RUN, "limit": 100})
        left: Any = work.structured_content
        if not left["records"]:
            return recorded
        for record in left["records"]:
            assert record["next_stage"] is not None, record
            if budget is not None and recorded >= budget:
                return recorded
            output = (
                {"draft_id": f"d-{record['record']}"} if record["next_stage"] == "draft" else None
            )
            args = {"run_id": RUN, "record": record["record"], "stage": record["next_stage"]}
            await call(client, "record_checkpoint", {**args, "output": output})
            recorded += 1


def test_an_agent_session_cut_off_midway_is_resumed_with_nothing_redone(
    nick_org: Path, db_url: str
) -> None:
    params = server_params(nick_org, db_url, "--allow-writes", "--seat", "nick")
    session = Session.open(nick_org, db_url)

    def stored() -> dict[tuple[int, str], Any]:
        with session.store().read() as conn:
            rows = conn.execute(select(run_checkpoints).where(run_checkpoints.c.run_id == RUN))
            return {(r.seq, r.stage): (r.status, r.updated_at, r.output) for r in rows}

    async def first() -> int:
        recorded = 0
        with pytest.raises(BaseException):  # noqa: B017 - the client sees its server vanish
            async with Client(params) as client:
                recorded = await _work(client, budget=37)
                pids = _server_pids()
                assert len(pids) == 1, pids
                os.kill(pids[0], signal.SIGKILL)  # cut off midway, nothing shut down cleanly
                await client.call_tool("show_run", {"run_id": RUN})
        return recorded

    recorded = anyio.run(first)
    assert recorded == 37
    before = stored()
    assert sum(1 for status, *_ in before.values() if status == "done") == 37

    async def second() -> tuple[str, int]:
        async with Client(params) as client:
            status = text_of(await call(client, "show_run", {"run_id": RUN}))
            return status, await _work(client, budget=None)

    status, resumed = anyio.run(second)
    assert "running, 30 records" in status and "validate: 30 done" in status
    assert resumed == 60 - 37
    after = stored()
    assert len(after) == 60 and all(status == "done" for status, *_ in after.values())
    for key, row in before.items():
        assert after[key] == row, f"checkpoint {key} was redone"
    done = orgplane("--org", str(nick_org), "--db", db_url, "run", "status", RUN, "--json")
    assert '"state": "finished"' in done.stdout
    session.close()

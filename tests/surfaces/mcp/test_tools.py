"""The MCP tools in-process, through the SDK's own client: names, descriptions, annotations,
output schemas, read-only by default, every tool reaching the service, and who may write what.
"""

from __future__ import annotations

import re
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

import anyio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mcp import Client

from orgplane.errors import PermissionDenied, UsageError
from orgplane.service.session import Session
from orgplane.surfaces.mcp.server import build_server, shared_session
from orgplane.surfaces.mcp.tools import WRITE_TOOLS
from tests.surfaces.cli_helpers import orgplane
from tests.surfaces.mcp.helpers import call, refused, started_nick_run, text_of

RUN = "nick-prospecting:b1"
SERVICE = str(Path(__file__).parents[3] / "src" / "orgplane" / "service")
PLUMBING = ("session.py", "models.py", "progress.py", "__init__.py", "permissions.py")
VERBS = {"show", "list", "record", "publish", "push", "gate", "report", "ack", "resolve"}

# Each tool with arguments it succeeds with, in an order that makes each possible (a failure
# reported, then decided, before the decision is shown). Shared with the stdio and HTTP tests.
CALLS: list[tuple[str, dict[str, Any]]] = [
    ("show_chart", {}),
    ("list_seats", {"kind": "agent"}),
    ("show_seat", {"seat_id": "nick"}),
    ("list_stale_outputs", {"include_fresh": True}),
    ("list_runs", {}),
    ("show_run", {"run_id": RUN}),
    ("list_pending_records", {"run_id": RUN, "limit": 5}),
    ("show_scorecard", {}),
    ("record_checkpoint", {"run_id": RUN, "record": "1", "stage": "validate"}),
    ("publish_output", {"output_id": "nick-pipeline", "content": '{"drafted": 3}'}),
    ("gate_inputs", {}),
    (
        "report_failure",
        {
            "kind": "unhandled_error",
            "subject_kind": "process",
            "subject_id": "nick-prospecting",
            "message": "Gmail refused the draft: quota",
        },
    ),
    ("list_decisions", {"include_closed": True}),
    ("list_incidents", {"open_only": False}),
    ("show_briefing", {"seat_id": "radar"}),
    ("list_handoffs", {}),
]
"""Nick's calls; push_metric (Tally's metrics), ack_decision (people) and show_decision (after
a decide) are called by the tests with the seat they need."""


@pytest.fixture
def nick_org(agency: Path) -> Path:
    return started_nick_run(agency)


def serve(org: Path, **kwargs: Any) -> Any:
    return build_server(shared_session(Session.open(org)), **kwargs)


def run(fn: Any, *args: Any) -> Any:
    return anyio.run(fn, *args)


def test_every_tool_declares_its_four_annotations_a_verb_noun_name_and_an_output_schema(
    nick_org: Path,
) -> None:
    tools = run(serve(nick_org, allow_writes=True, seat="nick").list_tools)
    assert {t.name for t in tools} >= WRITE_TOOLS
    for tool in tools:
        hints = tool.annotations
        assert hints is not None, f"{tool.name} declares no annotations"
        for hint in ("read_only_hint", "destructive_hint", "idempotent_hint", "open_world_hint"):
            assert getattr(hints, hint) is not None, f"{tool.name} does not declare {hint}"
        assert hints.read_only_hint is (tool.name not in WRITE_TOOLS), tool.name
        assert re.fullmatch(r"[a-z]+(_[a-z]+)+", tool.name), tool.name
        assert tool.name.split("_")[0] in VERBS, tool.name
        assert tool.output_schema is not None, f"{tool.name} publishes no output schema"
        assert tool.title
        # what it returns, and when to use it or not
        assert tool.description and len(tool.description) > 120, tool.name
        assert re.search(r"\b(use|not for|only|call)\b", tool.description, re.I), tool.name


def test_read_only_by_default_and_writes_need_a_seat(nick_org: Path) -> None:
    read_only = {t.name for t in run(serve(nick_org).list_tools)}
    writing = {t.name for t in run(serve(nick_org, allow_writes=True, seat="nick").list_tools)}
    assert not read_only & WRITE_TOOLS
    assert writing - read_only == WRITE_TOOLS
    with pytest.raises(UsageError, match="--seat"):
        serve(nick_org, allow_writes=True)
    with pytest.raises(PermissionDenied, match="jeff"):
        serve(nick_org, allow_writes=True, seat="jeff")  # retired


@contextmanager
def service_calls(current: list[str]) -> Iterator[dict[str, set[str]]]:
    """Service functions entered while each tool runs (``current[0]`` names it), in this
    thread and in the worker threads the SDK starts for the calls inside the block."""
    seen: dict[str, set[str]] = {}

    def profile(frame: FrameType, event: str, _arg: Any) -> None:
        if event == "call" and current:
            filename = frame.f_code.co_filename
            if filename.startswith(SERVICE) and not filename.endswith(PLUMBING):
                seen.setdefault(current[0], set()).add(
                    f"{Path(filename).stem}.{frame.f_code.co_name}"
                )

    sys.setprofile(profile)
    threading.setprofile(profile)
    try:
        yield seen
    finally:
        sys.setprofile(None)
        threading.setprofile(None)  # type: ignore[arg-type]


def test_every_tool_reaches_a_service_function(nick_org: Path) -> None:
    server = serve(nick_org, allow_writes=True, seat="nick")
    current: list[str] = []

    async def walk() -> None:
        async with Client(server) as client:
            for name, args in CALLS:
                current[:] = [name]
                await call(client, name, args)
                current.clear()

    with service_calls(current) as reached:  # before the loop starts: its threads inherit it
        run(walk)
    people = {"ack_decision", "resolve_handoff"}  # called by people in their own tests
    walked = {name for name, _ in CALLS} | {"push_metric", "show_decision", "show_incident"}
    walked |= people
    assert walked == {t.name for t in run(server.list_tools)}, "add the new tool to CALLS"
    for name, _ in CALLS:
        assert reached.get(name), f"tool {name} called no service function"


def test_writes_act_as_the_seat_and_only_on_its_own_data(nick_org: Path) -> None:
    async def as_nick() -> None:
        async with Client(serve(nick_org, allow_writes=True, seat="nick")) as client:
            message = await refused(
                client, "publish_output", {"output_id": "dash-analysis", "content": "{}"}
            )
            assert message.startswith("not allowed") and "belongs to seat dash" in message
            message = await refused(
                client, "push_metric", {"metric_id": "leads-booked", "value": 3}
            )
            assert "belongs to seat tally" in message
            await call(
                client,
                "report_failure",
                {
                    "kind": "crash",
                    "subject_kind": "process",
                    "subject_id": "nick-prospecting",
                    "message": "the draft step died",
                },
            )
            message = await refused(client, "ack_decision", {"decision_id": 1})
            assert "takes a person" in message

    async def as_tally() -> None:
        async with Client(serve(nick_org, allow_writes=True, seat="tally")) as client:
            pushed = await call(client, "push_metric", {"metric_id": "leads-booked", "value": 7})
            assert pushed.structured_content is not None
            assert pushed.structured_content["value"] == 7

    async def as_ceo() -> None:
        async with Client(serve(nick_org, allow_writes=True, seat="ceo")) as client:
            acked = await call(client, "ack_decision", {"decision_id": 1, "note": "on it"})
            assert acked.structured_content is not None
            assert acked.structured_content["state"] == "acknowledged"
            shown = await call(client, "show_decision", {"decision_id": 1})
            assert "decision 1 (acknowledged)" in text_of(shown)
            incident = await call(client, "show_incident", {"incident_id": 1})
            assert "incident 1 (open)" in text_of(incident) and "detected" in text_of(incident)

    run(as_nick)
    run(as_tally)
    decided = orgplane("--org", str(nick_org), "decide", "--once", "--no-send")
    assert decided.returncode in (0, 1), decided.stderr
    run(as_ceo)


def test_a_bad_argument_is_one_clear_refusal_not_a_crash(nick_org: Path) -> None:
    async def go() -> None:
        async with Client(serve(nick_org, allow_writes=True, seat="nick")) as client:
            message = await refused(client, "show_seat", {"seat_id": "nobody"})
            assert message.count("\n") == 0 and "use one of" in message
            message = await refused(
                client, "record_checkpoint", {"run_id": RUN, "record": "1", "stage": "draft"}
            )
            assert "stage 'validate' is not done yet" in message
            message = await refused(
                client,
                "record_checkpoint",
                {"run_id": RUN, "record": "1", "stage": "validate", "outcome": "failed"},
            )
            assert "error_code" in message
            message = await refused(client, "show_run", {"run_id": "no-such-run"})
            assert message.count("\n") == 0 and "not found" in message

    run(go)


def test_the_chart_names_every_seat_and_which_have_coverage_protocols(nick_org: Path) -> None:
    async def go() -> None:
        async with Client(serve(nick_org)) as client:
            chart = text_of(await call(client, "show_chart"))
        org = Session.open(nick_org).org()
        for seat in org.seats:
            assert re.search(rf"\b{re.escape(seat)}\b", chart), seat
        assert "seats whose outputs all have coverage protocols:" in chart
        assert "radar: use_last_good" in chart  # nick-pipeline's reader and its protocol

    run(go)


def test_the_read_tools_write_nothing(nick_org: Path) -> None:
    from tests.service.test_reads_write_nothing import write_transactions

    session = Session.open(nick_org)
    session.store()  # the org synced first: only the tools are watched
    server = build_server(shared_session(session))
    # show_briefing stores the gate's answers, as 'orgplane brief' does (documented on it)
    reads = [(n, a) for n, a in CALLS if n not in WRITE_TOOLS and n != "show_briefing"]

    async def go() -> None:
        async with Client(server) as client:
            for name, args in reads:
                await call(client, name, args)

    with write_transactions() as begun:
        run(go)
    assert begun == [], "a read tool began a write transaction"


TEXT = st.text(st.characters(codec="utf-8"), max_size=300)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seat=TEXT, run_id=TEXT, record=TEXT, message=TEXT)
def test_outside_text_in_any_argument_is_answered_never_a_crash(
    nick_org: Path, seat: str, run_id: str, record: str, message: str
) -> None:
    server = serve(nick_org, allow_writes=True, seat="nick")
    calls = [
        ("show_seat", {"seat_id": seat}),
        ("show_run", {"run_id": run_id}),
        ("list_pending_records", {"run_id": run_id}),
        ("record_checkpoint", {"run_id": RUN, "record": record, "stage": seat}),
        ("publish_output", {"output_id": "nick-pipeline", "content": message}),
        (
            "report_failure",
            {"kind": "crash", "subject_kind": "output", "subject_id": seat, "message": message},
        ),
    ]

    async def go() -> None:
        async with Client(server) as client:
            for name, args in calls:
                result = await client.call_tool(name, args)
                answer = text_of(result)
                assert answer.strip(), name
                # an unexpected exception reaches the client as this bare line: a bug of ours
                assert answer.strip() != f"Error executing tool {name}", (name, args)

    run(go)


def test_orgplane_mcp_refuses_bad_input_before_it_serves(tmp_path: Path, nick_org: Path) -> None:
    missing = orgplane("--org", str(tmp_path / "none.yaml"), "mcp")
    assert missing.returncode == 2 and missing.stdout == ""
    assert "none.yaml:0: no org file here" in missing.stderr, missing.stderr
    no_seat = orgplane("--org", str(nick_org), "mcp", "--allow-writes")
    assert no_seat.returncode == 2 and "--seat SEAT" in no_seat.stderr and no_seat.stdout == ""


def test_a_record_handed_off_is_listed_and_resolved_only_by_its_seat(nick_org: Path) -> None:
    async def as_nick() -> None:
        async with Client(serve(nick_org, allow_writes=True, seat="nick")) as client:
            message = await refused(
                client,
                "record_checkpoint",
                {"run_id": RUN, "record": "2", "stage": "validate", "outcome": "handoff"},
            )
            assert "handoff_to" in message
            handed = await call(
                client,
                "record_checkpoint",
                {
                    "run_id": RUN,
                    "record": "2",
                    "stage": "validate",
                    "outcome": "handoff",
                    "handoff_to": "ceo",
                    "reason": "a prospect David knows",
                },
            )
            assert handed.structured_content is not None
            assert handed.structured_content["stages"]["validate"]["handed_off"] == 1
            mine = await call(client, "list_handoffs")
            assert "no open hand-offs for nick" in text_of(mine)

    async def as_coo() -> None:
        async with Client(serve(nick_org, allow_writes=True, seat="coo")) as client:
            message = await refused(client, "resolve_handoff", {"handoff_id": 1, "outcome": "done"})
            assert message.startswith("not allowed") and "belongs to seat ceo" in message

    async def as_ceo() -> None:
        async with Client(serve(nick_org, allow_writes=True, seat="ceo")) as client:
            listed = await call(client, "list_handoffs")
            assert "#1 to ceo: record 2" in text_of(listed)
            assert "a prospect David knows" in text_of(listed)
            done = await call(
                client, "resolve_handoff", {"handoff_id": 1, "outcome": "done", "note": "mine"}
            )
            assert done.structured_content is not None
            assert done.structured_content["resolved_by"] == "ceo"

    run(as_nick)
    run(as_coo)
    run(as_ceo)

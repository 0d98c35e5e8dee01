"""Every command of the CLI reaches the service layer: the CLI parses and renders, nothing else.

Each command runs in-process with a profiler that notes every function of ``orgplane.service``
entered (the session and the result models aside, which every command touches). A new command
must be added to :data:`INVOCATIONS`, so it cannot skip the service unnoticed.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

import pytest
import typer

from orgplane.surfaces.cli import app
from tests.surfaces.cli_helpers import orgplane
from tests.surfaces.test_docs import command_paths

SERVICE = str(Path(__file__).parents[2] / "src" / "orgplane" / "service")
PLUMBING = ("session.py", "models.py", "progress.py", "__init__.py")

# The arguments each command is walked with ({org}, {dir}, {batch}, {run} are filled in).
INVOCATIONS: dict[str, list[str]] = {
    "init": ["init", "{dir}/fresh"],
    "validate": ["validate"],
    "chart": ["chart"],
    "audit readiness": ["audit", "readiness"],
    "audit weekly": ["audit", "weekly"],
    "run start": ["run", "start", "pepper-triage", "{batch}", "--batch", "walk"],
    "run status": ["run", "status", "{run}"],
    "run list": ["run", "list"],
    "run resume": ["run", "resume", "{run}"],
    "checkpoint": ["checkpoint", "{run}", "m1", "fetch", "--done"],
    "queue": ["queue", "client-lead"],
    "queue resolve": ["queue", "resolve", "1", "--outcome", "done"],  # none yet: refused (2)
    "seats delegation": ["seats", "delegation", "--since", "2026-01-01"],
    "check": ["check"],
    "watch": ["--org", "{dir}/no-such-org.yaml", "watch"],  # stops at once: no org file
    "publish": ["publish", "nick-pipeline", "--file", "{batch}"],
    "heartbeat": ["heartbeat", "tally-push", "--start"],
    "metric push": ["metric", "push", "leads-booked", "7"],
    "scorecard": ["scorecard"],
    "prune": ["prune"],
    "gate": ["gate", "radar"],
    "drill": ["drill", "seat-on-empty", "--subject", "tally"],
    "brief": ["brief", "radar"],
    "decide": ["decide", "--once"],
    "decision list": ["decision", "list"],
    "decision show": ["decision", "show", "1"],  # none yet: refused by the service (exit 2)
    "decision ack": ["decision", "ack", "1", "--note", "on it"],
    "notifications": ["notifications", "--failed"],
    "incidents": ["incidents", "--open"],
    "incident show": ["incident", "show", "1"],  # none yet: refused by the service (exit 2)
    "incident ack": ["incident", "ack", "1"],  # none yet: refused by the service (exit 2)
    "incident close": ["incident", "close", "1", "--learning", "x", "--no-change", "a blip"],
    "follow-ups": ["follow-ups", "--overdue"],
    "follow-up done": ["follow-up", "done", "1"],  # none yet: refused by the service (exit 2)
    "serve": ["--org", "{dir}/no-such-org.yaml", "serve"],  # stops at once: no org file
    "token create": ["token", "create", "nick"],
    "token list": ["token", "list"],
    "token revoke": ["token", "revoke", "00000000"],  # no such token: refused by the service
    "mcp": ["mcp", "--allow-writes", "--seat", "no-such-seat"],  # refused by the service (exit 2)
    "seats health": ["seats", "health"],
    "hearing open": ["hearing", "open", "dash"],
    # No open hearing here: refused by the service (exit 2); test_json_schemas opens one first.
    "hearing decide": ["hearing", "decide", "amanda", "--retire", "--give", "inbound-calls=erica"],
    "hearing show": ["hearing", "show", "amanda"],
    "demo": ["demo", "--keep", "{dir}/not-empty"],  # refused before any work: see test_demo
}


@contextmanager
def service_calls(
    *, plumbing: tuple[str, ...] = PLUMBING, threads: bool = False
) -> Iterator[set[str]]:
    """The names of the service functions entered inside the block (files ending in one of
    ``plumbing`` aside); with ``threads``, in every thread started inside it too."""
    seen: set[str] = set()

    def profile(frame: FrameType, event: str, _arg: Any) -> None:
        if event == "call":
            filename = frame.f_code.co_filename
            if filename.startswith(SERVICE) and not filename.endswith(plumbing):
                seen.add(f"{Path(filename).stem}.{frame.f_code.co_name}")

    if threads:
        threading.setprofile(profile)
    sys.setprofile(profile)
    try:
        yield seen
    finally:
        sys.setprofile(None)
        if threads:
            threading.setprofile(None)  # type: ignore[arg-type]


def test_every_command_is_walked() -> None:
    paths = command_paths(typer.main.get_command(app))
    assert sorted(paths) == sorted(INVOCATIONS), "add the new command to INVOCATIONS"


@pytest.fixture
def walk(agency: Path, tmp_path: Path) -> dict[str, str]:
    batch = tmp_path / "mail.json"
    batch.write_text(json.dumps([{"id": "m1"}, {"id": "m2"}]))
    (tmp_path / "not-empty").mkdir()
    (tmp_path / "not-empty" / "keep.txt").write_text("a user's file\n")
    return {
        "org": str(agency),
        "dir": str(tmp_path),
        "batch": str(batch),
        "run": "pepper-triage:walk",
    }


@pytest.mark.parametrize("command", [c for c in INVOCATIONS if c != "demo"])
def test_command_reaches_a_service_function(command: str, walk: dict[str, str]) -> None:
    if command not in ("run start", "init", "validate", "chart", "audit readiness", "watch"):
        orgplane(
            "--org", walk["org"], "run", "start", "pepper-triage", walk["batch"], "--batch", "walk"
        )
    args = [a.format(**walk) for a in INVOCATIONS[command]]
    if args[0] != "--org":
        args = ["--org", walk["org"], *args]
    with service_calls() as seen:
        result = orgplane(*args)
    assert "Traceback" not in result.stderr
    assert result.returncode in (0, 1, 2), result.stderr
    assert seen, f"'orgplane {command}' called no service function"


def test_demo_reaches_the_service(walk: dict[str, str], tmp_path: Path) -> None:
    # The whole story runs in tests/surfaces/test_demo.py; here only that its steps go through
    # the service: the org step's validate and chart, the runs step's start and resume.
    from orgplane.org.scaffold import write_example
    from orgplane.service.session import Session
    from orgplane.surfaces.cli.demo import step_org

    org_file = write_example(tmp_path / "story", "agency")
    with service_calls() as seen, Session(org_file, f"sqlite:///{tmp_path / 's.db'}") as session:
        step_org(session)
    assert {"org.validate", "org.chart"} <= seen

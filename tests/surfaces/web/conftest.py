"""The dashboard under test: its router in an app of the test's own, served by a real uvicorn
on 127.0.0.1, and Debian's Chromium driven by Playwright (never a downloaded browser)."""

from __future__ import annotations

import json
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI

from orgplane.org.loader import load_org
from orgplane.service.session import Session
from orgplane.surfaces.web import router
from orgplane.watch.sample import sample_content, write_sample_state

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).parents[2] / "artifacts"
"""Where browser tests keep what a person looks at afterwards (tests/artifacts, ignored by git)."""


def dashboard(
    org_file: Path, db: str, *, actor: Callable[..., str | None] | None = None, refresh: int = 0
) -> FastAPI:
    """An app holding only the dashboard's router on ``org_file`` and ``db``."""
    app = FastAPI()
    extra: dict[str, Any] = {"actor": actor} if actor is not None else {}
    app.include_router(router(lambda: Session.open(org_file, db), refresh=refresh, **extra))
    return app


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """``app`` under a real uvicorn on a free port of 127.0.0.1; yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@pytest.fixture
def fresh_agency(agency: Path) -> Path:
    """The example with every state file written fresh now."""
    write_sample_state(load_org(agency), datetime.now(UTC))
    return agency


def make_stale(org_file: Path, output_id: str, age: timedelta = timedelta(days=2)) -> None:
    """Rewrite ``output_id``'s state file with data ``age`` old (valid, only old)."""
    org = load_org(org_file)
    output = org.outputs[output_id]
    assert output.location is not None
    (org.base_dir / output.location).write_bytes(sample_content(output, datetime.now(UTC) - age))


def live_decision(org_file: Path, db: str) -> int:
    """Make Dash's analysis stale, check and decide: the id of the live decision about it."""
    from orgplane.service.decisions import decide_pending, list_decisions
    from orgplane.service.watch import check

    make_stale(org_file, "dash-analysis")
    with Session.open(org_file, db) as session:
        check(session)
        decide_pending(session)
        return next(
            d.id for d in list_decisions(session).decisions if d.subject_id == "dash-analysis"
        )


def batch_file(folder: Path, count: int) -> Path:
    """A batch of ``count`` mail records for pepper-triage (a process its agent checkpoints)."""
    path = folder / "mail.json"
    path.write_text(json.dumps([{"id": f"m{i}"} for i in range(1, count + 1)]))
    return path


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium under Playwright, one per test worker."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: 'make test' installs Debian's chromium package")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser page, 1280 wide; closed afterwards."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        yield context.new_page()
    finally:
        context.close()


def keep_artifact(source: Path, name: str) -> Path:
    """Copy ``source`` into tests/artifacts/ under ``name``."""
    ARTIFACTS.mkdir(exist_ok=True)
    target = ARTIFACTS / name
    shutil.copyfile(source, target)
    return target

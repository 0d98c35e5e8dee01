"""A process closing incidents in a loop (each close a round-trip edit of org.yaml), killed with
SIGKILL at random moments: the file always parses as one whole version, old or new, never half
of one, its comments kept; and closing goes on working afterwards."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest

from orgplane.org.loader import load_org
from orgplane.service.incidents import close_incident, incident_change, list_incidents
from orgplane.service.session import Session
from tests.conftest import PG_URL
from tests.learn.test_learnings import _stale

WORKER = Path(__file__).parent / "close_worker.py"
ROOT = Path(__file__).parents[2]
AGES = {timedelta(hours=18), timedelta(hours=24), timedelta(hours=30)}


def _reaped(db_url: str, name: str) -> None:
    """Wait until PostgreSQL has ended the killed worker's sessions (a loaded machine takes a
    moment to notice a client died, and its locks last until then)."""
    if not db_url.startswith("postgresql"):
        return
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", (name,)
            ).fetchone()
        if not row or not row[0]:
            return
        time.sleep(0.1)
    raise AssertionError(f"PostgreSQL kept the killed worker's sessions ({name}) for 30 s")


@pytest.mark.crash
@pytest.mark.slow
def test_a_close_killed_mid_write_leaves_a_whole_org_file(agency: Path, db_url: str) -> None:
    rng = random.Random(11)
    with Session.open(agency, db_url) as session:
        session.store()  # migrated and synced before the worker starts
    lines = len(agency.read_text().splitlines())
    versions = set()
    name = f"close-worker-{uuid.uuid4().hex[:8]}"
    worker_url = f"{db_url}&application_name={name}" if db_url.startswith("postgresql") else db_url
    for _ in range(6):
        worker = subprocess.Popen(
            [sys.executable, str(WORKER), str(agency), worker_url],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        assert worker.stdout is not None
        ready = worker.stdout.readline()
        assert ready.strip() == "ready", worker.stderr.read() if worker.stderr else ""
        time.sleep(rng.uniform(0.0, 0.6))
        worker.send_signal(signal.SIGKILL)
        worker.wait(30)
        _reaped(db_url, name)
        org = load_org(agency)  # whole: it parses and validates
        text = agency.read_text()
        assert "# orgplane example" in text and len(text.splitlines()) == lines
        versions.add(org.outputs["dash-analysis"].max_age)
        assert org.outputs["dash-analysis"].max_age in AGES
        # No temporary file a killed writer left survives the next write.
    assert len(versions) >= 1
    with Session.open(agency, db_url) as session:
        incident_id = (
            _stale(session)
            if not list_incidents(session, open_only=True).incidents
            else list_incidents(session, open_only=True).incidents[0].id
        )
        closed = close_incident(
            session,
            incident_id,
            "after the crashes",
            incident_change(set_="output:dash-analysis.max_age=20h"),
        )
    assert closed.incident.status == "closed"
    assert load_org(agency).outputs["dash-analysis"].max_age == timedelta(hours=20)
    assert [p.name for p in agency.parent.iterdir() if p.name.startswith(".org.yaml.")] == []

"""``orgplane watch`` as a real process: it notices a file crossing its threshold within two
intervals, records the transition once, survives the database connection going away, stops
cleanly on SIGTERM, and two watchers on one PostgreSQL record a transition once."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import func, select

from orgplane.org.loader import load_org
from orgplane.store.engine import Store, open_store
from orgplane.store.tables import events, watch_states, watch_transitions
from orgplane.store.types import utcnow
from orgplane.watch.sample import write_sample_state
from tests.conftest import PG_URL
from tests.watch.conftest import iso, write_state

INTERVAL = 1.0
pytestmark = pytest.mark.slow


def start_watcher(org: Path, db: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "orgplane",
            "--org",
            str(org),
            "--db",
            db,
            "watch",
            "--interval",
            "1s",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def stop(process: subprocess.Popen[str]) -> tuple[int, str]:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        _, err = process.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        _, err = process.communicate()
    return process.returncode, err


def wait_for(condition: Callable[[], bool], timeout: float) -> float:
    """Poll ``condition`` until true; return the seconds it took (fail after ``timeout``)."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if condition():
            return time.monotonic() - start
        time.sleep(0.05)
    raise AssertionError(f"not within {timeout}s")


def count(store: Store, kind: str) -> int:
    with store.read() as conn:
        return int(
            conn.execute(
                select(func.count())
                .select_from(events)
                .where(events.c.subject_id == "dash-analysis", events.c.kind == kind)
            ).scalar_one()
        )


def first_pass_done(store: Store) -> bool:
    with store.read() as conn:
        return conn.execute(select(watch_states.c.status)).first() is not None


def write_dash(folder: Path, stamp: str, written: datetime) -> None:
    body = {"generated_at": stamp, "clients": ["Acme Dental"], "total_spend": 10}
    write_state(folder / "state" / "dash.json", json.dumps(body), written)


@pytest.fixture
def watched(agency: Path) -> Path:
    write_sample_state(load_org(agency), utcnow())
    return agency


@pytest.fixture
def app_db(db_url: str) -> Iterator[tuple[str, str]]:
    """The test's database URL tagged with an application name (to find its connections)."""
    name = f"watch-{uuid.uuid4().hex[:8]}"
    if db_url.startswith("postgresql"):
        yield f"{db_url}&application_name={name}", name
    else:
        yield db_url, name


def restart_connections(db_url: str, name: str) -> None:
    """Cut the watcher off its database for a moment."""
    if db_url.startswith("postgresql"):
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            killed = conn.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = %s",
                (name,),
            ).fetchone()
        assert killed and killed[0] >= 1
        return
    # SQLite: the database file (and its WAL) is moved away for two intervals, then back.
    path = Path(db_url.removeprefix("sqlite:///"))
    for p in list(path.parent.glob(path.name + "*")):
        p.rename(p.with_name(p.name + ".away"))
    time.sleep(2 * INTERVAL)
    assert not path.exists(), "the watcher must not create an empty database meanwhile"
    for p in path.parent.glob("*.away"):
        p.replace(p.with_name(p.name.removesuffix(".away")))


def test_watch_records_one_stale_event_and_survives_a_lost_connection(
    watched: Path, app_db: tuple[str, str]
) -> None:
    db, name = app_db
    store = open_store(db.split("&application_name=")[0])
    process = start_watcher(watched, db)
    try:
        wait_for(lambda: first_pass_done(store), timeout=30)
        now = utcnow()
        write_dash(watched.parent, iso(now - timedelta(hours=20)), now - timedelta(hours=20))
        took = wait_for(lambda: count(store, "stale") == 1, timeout=10)
        assert took <= 2 * INTERVAL + 0.5, f"stale seen after {took:.2f}s"
        time.sleep(2.5 * INTERVAL)  # more passes, still one event
        assert count(store, "stale") == 1

        restart_connections(db, name)
        write_dash(watched.parent, "2026-13-45", utcnow())
        wait_for(lambda: count(store, "corrupt") == 1, timeout=15)
        assert process.poll() is None, "the watcher died"
    finally:
        code, err = stop(process)
        store.dispose()
    assert code == 0, err
    assert "Traceback" not in err
    assert "stopped after" in err
    assert "output dash-analysis: fresh -> stale" in err
    if not db.startswith("postgresql"):
        assert "is gone (moved or deleted)" in err  # it noticed, said so, and carried on


@pytest.mark.postgres
def test_two_watchers_on_one_postgresql_record_once(watched: Path, pg_schema_url: str) -> None:
    store = open_store(pg_schema_url)
    watchers = [start_watcher(watched, pg_schema_url) for _ in range(2)]
    try:
        wait_for(lambda: first_pass_done(store), timeout=30)
        time.sleep(2 * INTERVAL)  # both are past their first pass
        now = utcnow()
        write_dash(watched.parent, iso(now - timedelta(hours=20)), now - timedelta(hours=20))
        wait_for(lambda: count(store, "stale") >= 1, timeout=10)
        time.sleep(3 * INTERVAL)
        assert count(store, "stale") == 1
        with store.read() as conn:
            rows = conn.execute(
                select(watch_transitions.c.to_status).where(
                    watch_transitions.c.subject_id == "dash-analysis"
                )
            ).all()
        assert [r.to_status for r in rows] == ["stale"]
        assert all(w.poll() is None for w in watchers)
    finally:
        results = [stop(w) for w in watchers]
        store.dispose()
    for code, err in results:
        assert code == 0, err


def test_an_unreachable_database_costs_one_line_per_pass_and_a_retry(
    watched: Path, db_url: str, tmp_path: Path
) -> None:
    """The watcher's pass loop, in process: a refused connection is logged, never raised, and
    the next pass against a reachable database works."""
    from orgplane.watch.daemon import Watcher

    lines: list[str] = []
    if db_url.startswith("postgresql"):
        unreachable = "postgresql://postgres@127.0.0.1:1/test?connect_timeout=2"
    else:
        unreachable = f"sqlite:///{tmp_path / 'not-yet' / 'orgplane.db'}"
    watcher = Watcher(watched, unreachable, timedelta(seconds=1), log=lines.append)
    watcher.run_pass()
    watcher.run_pass()
    assert watcher.passes == 0
    assert len(lines) == 2
    assert all(line.startswith("pass skipped: ") for line in lines), lines
    assert all("retrying in 1s" in line for line in lines)
    watcher.db = db_url
    watcher.run_pass()
    assert watcher.passes == 1
    assert not [line for line in lines[2:] if line.startswith("pass skipped")]

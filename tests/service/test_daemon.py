"""The daemon as users run it: ``orgplane watch`` as real processes, on SQLite and PostgreSQL.

Dash's analysis goes stale: one ``skip_and_flag`` decision, within a second of the event's
commit. An event another process commits is decided within a second. Nick's worker is
SIGKILLed mid-batch with two daemons on the store: the run is resumed once, finishes, and no
draft is made twice.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from orgplane.org.loader import load_org
from orgplane.respond.events import FailureEvent, record_event
from orgplane.store.engine import Store, open_store
from orgplane.store.tables import decision_events, decisions, events, resume_attempts, runs
from orgplane.store.types import utcnow
from orgplane.watch.sample import write_sample_state
from tests.daemon_process import start_daemon, stop, wait_for

pytestmark = pytest.mark.slow


@pytest.fixture
def daemon_store(agency: Path, db_url: str) -> Iterator[Store]:
    write_sample_state(load_org(agency), utcnow())
    store = open_store(db_url)
    yield store
    store.dispose()


def decision_rows(store: Store, subject: str) -> list[dict[str, object]]:
    with store.read() as conn:
        query = select(decisions).where(decisions.c.subject_id == subject)
        return [dict(r._mapping) for r in conn.execute(query.order_by(decisions.c.id))]


def make_stale(agency: Path) -> None:
    path = agency.parent / "state" / "dash.json"
    old = utcnow() - timedelta(hours=20)
    body = {"generated_at": old.isoformat(), "clients": ["Acme Dental"], "total_spend": 10}
    path.write_text(json.dumps(body))


def test_a_stale_analysis_gets_one_flag_decision_within_a_second(
    agency: Path, db_url: str, daemon_store: Store
) -> None:
    daemon = start_daemon(agency, db_url)
    try:
        wait_for(lambda: _checked(daemon_store), 20, "the first pass")
        make_stale(agency)
        wait_for(lambda: decision_rows(daemon_store, "dash-analysis"), 15, "a decision")
        wait_for(lambda: _passes(daemon_store) >= 3, 15, "more passes")
        [row] = decision_rows(daemon_store, "dash-analysis")
        assert (row["kind"], row["tier"], row["action"]) == ("stale", "flag", "skip_and_flag")
        assert row["repeats"] == 0 and row["status"] == "open"
        assert row["latency_ms"] < 1000, row  # event committed -> decision stored
    finally:
        code, log = stop(daemon)
    assert code == 0, log
    assert "Traceback" not in log


def _checked(store: Store) -> bool:
    with store.read() as conn:
        return bool(conn.execute(select(func.count()).select_from(decisions)).scalar())


def _passes(store: Store) -> int:
    from orgplane.store.tables import watch_states

    with store.read() as conn:
        return int(conn.execute(select(func.count()).select_from(watch_states)).scalar() or 0)


def test_events_another_process_commits_are_decided_within_a_second(
    agency: Path, db_url: str, daemon_store: Store
) -> None:
    daemon = start_daemon(agency, db_url, interval="1h")  # no detection pass gets in the way
    try:
        wait_for(lambda: _checked(daemon_store), 20, "the daemon's start")
        for n in range(10):
            with daemon_store.write() as conn:
                record_event(
                    conn,
                    FailureEvent(
                        kind="unhandled_error",
                        occurred_at=utcnow(),
                        subject_kind="run",
                        subject_id=f"nick-prospecting:e{n}",
                        seat_id="nick",
                        message=f"unknown error {n}",
                    ),
                )
            wait_for(lambda n=n: decision_rows(daemon_store, f"nick-prospecting:e{n}"), 10)
        with daemon_store.read() as conn:
            latencies = (
                conn.execute(
                    select(decision_events.c.latency_ms)
                    .join(events, events.c.id == decision_events.c.event_id)
                    .where(events.c.kind == "unhandled_error")
                )
                .scalars()
                .all()
            )
        assert len(latencies) == 10
        assert max(latencies) < 1000, latencies
        owner_now = decision_rows(daemon_store, "nick-prospecting:e0")[0]
        assert (owner_now["tier"], owner_now["action"], owner_now["notify"]) == (
            "owner-now",
            "escalate",
            "ceo",
        )
    finally:
        code, log = stop(daemon)
    assert code == 0, log


@pytest.mark.crash
def test_a_worker_killed_mid_batch_is_resumed_once_and_no_draft_is_made_twice(
    agency: Path, db_url: str, daemon_store: Store
) -> None:
    folder = agency.parent
    (folder / "simulate").mkdir(exist_ok=True)
    (folder / "simulate" / "leadmagic-latency").write_text("0.3")
    batch = folder / "batches" / "prospects-2026-06-21.json"
    daemons = [start_daemon(agency, db_url, interval="1h") for _ in range(2)]
    drafts = folder / "simulate" / "gmail-drafts.jsonl"
    calls = folder / "simulate" / "leadmagic-calls.log"
    try:
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "orgplane",
                "--org",
                str(agency),
                "--db",
                db_url,
                "run",
                "start",
                "nick-prospecting",
                str(batch),
                "--batch",
                "killed",
                "--lease",
                "1",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env={**os.environ},
        )
        wait_for(lambda: _lines(calls) >= 8, 60, "eight validations")
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        killed_at = _lines(calls)
        assert killed_at < 30, "the batch finished before the kill: slow the stage down"
        wait_for(
            lambda: _status(daemon_store, "nick-prospecting:killed") == "finished",
            90,
            "the resumed run to finish",
        )
        wait_for(
            lambda: decision_rows(daemon_store, "nick-prospecting:killed")[0]["status"] == "closed",
            15,
            "the recovery",
        )
    finally:
        logs = [stop(d) for d in daemons]
    for code, log in logs:
        assert code == 0, log
        assert "Traceback" not in log, log
    keys = [json.loads(line)["idempotency_key"] for line in drafts.read_text().splitlines()]
    assert len(keys) == 30 and len(set(keys)) == 30  # every draft made, none twice
    validated = [line.split()[0] for line in calls.read_text().splitlines()]
    assert set(validated) == {str(n) for n in range(1, 31)}
    # Only what the dead worker had in flight is validated again, never what it had recorded.
    assert len(validated) - 30 <= 10, validated
    [crash] = decision_rows(daemon_store, "nick-prospecting:killed")
    assert (crash["kind"], crash["tier"], crash["action"]) == ("crash", "restart", "resume")
    with daemon_store.read() as conn:
        attempts = conn.execute(
            select(resume_attempts.c.attempt, resume_attempts.c.exit_code).where(
                resume_attempts.c.decision_id == crash["id"]
            )
        ).all()
    assert [tuple(a) for a in attempts] == [(1, 0)]  # two daemons, one restart
    assert sum("resumed from its checkpoint" in log for _, log in logs) == 1


def _lines(path: Path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


def _status(store: Store, run_id: str) -> str | None:
    with store.read() as conn:
        return conn.execute(select(runs.c.status).where(runs.c.id == run_id)).scalar()

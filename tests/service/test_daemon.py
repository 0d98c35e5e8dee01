"""The daemon as users run it: ``orgplane watch`` as real processes, on SQLite and PostgreSQL.

Dash's analysis goes stale: one ``skip_and_flag`` decision, within a second of the event's
commit. An event another process commits is decided within a second. Nick's worker is
SIGKILLed mid-batch with two daemons on the store: the run is resumed once, finishes, and no
draft is made twice. Nick's run stops on an error nobody planned for: its owner hears of it
through a real local HTTP receiver (Apprise ``json://``) within a second; the acknowledgement
holds re-sends until it expires, then one follows. A daemon killed after committing a decision
and before sending it: after a restart (two daemons) it is sent once.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from orgplane.org.edit import edit_org_file
from orgplane.org.loader import load_org
from orgplane.respond.events import FailureEvent, record_event
from orgplane.store.engine import Store, open_store
from orgplane.store.tables import (
    decision_events,
    decisions,
    events,
    notification_attempts,
    notifications,
    resume_attempts,
    runs,
)
from orgplane.store.types import utcnow
from orgplane.watch.sample import write_sample_state
from tests.daemon_process import orgplane_argv, start_daemon, stop, wait_for
from tests.respond.receiver import Receiver, receiving

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
            _record_unhandled(daemon_store, f"nick-prospecting:e{n}", "nick")
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
            orgplane_argv(
                agency,
                db_url,
                "run",
                "start",
                "nick-prospecting",
                str(batch),
                "--batch",
                "killed",
                "--lease",
                "1",
            ),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
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
        wait_for(lambda: _attempt_ended(daemon_store), 15, "the resume's exit on record")
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


def _attempt_ended(store: Store) -> bool:
    with store.read() as conn:
        codes = conn.execute(select(resume_attempts.c.exit_code)).scalars().all()
    return bool(codes) and all(code is not None for code in codes)


def _lines(path: Path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


def _status(store: Store, run_id: str) -> str | None:
    with store.read() as conn:
        return conn.execute(select(runs.c.status).where(runs.c.id == run_id)).scalar()


def point_people_at(agency: Path, receiver: Receiver, **tier_changes: dict[str, object]) -> None:
    """Every human seat with URLs now posts to ``receiver`` (path = the seat id)."""

    def change(doc: dict) -> None:  # type: ignore[type-arg]
        for seat_id, seat in doc["seats"].items():
            if "notify_urls" in seat:
                seat["notify_urls"] = [receiver.url(seat_id)]
        for tier_id, keys in tier_changes.items():
            doc["urgency"][tier_id].update(keys)

    edit_org_file(agency, change)


def nick_stops_on_an_unknown_error(agency: Path, db_url: str) -> subprocess.CompletedProcess[str]:
    """Nick's batch with LeadMagic answering a code nobody wrote down, as in the founder's note."""
    folder = agency.parent
    (folder / "simulate").mkdir(exist_ok=True)
    (folder / "simulate" / "leadmagic-faults.json").write_text(
        json.dumps({"17": {"code": "LM-503", "times": 1}})
    )
    batch = folder / "batches" / "prospects-2026-06-21.json"
    return subprocess.run(
        orgplane_argv(
            agency, db_url, "run", "start", "nick-prospecting", str(batch), "--batch", "b1"
        ),
        capture_output=True,
        text=True,
        timeout=120,
    )


def notification_rows(store: Store) -> list[dict[str, object]]:
    with store.read() as conn:
        query = select(notifications).order_by(notifications.c.id)
        return [dict(r._mapping) for r in conn.execute(query)]


def test_an_unknown_error_reaches_the_owner_within_a_second_and_an_ack_holds_until_it_expires(
    agency: Path, db_url: str, daemon_store: Store
) -> None:
    with receiving() as receiver:
        point_people_at(agency, receiver, **{"owner-now": {"ack_timeout": "4s", "repeat": "1h"}})
        daemon = start_daemon(agency, db_url, interval="1h")
        try:
            wait_for(lambda: _checked(daemon_store), 20, "the daemon's start")
            run = nick_stops_on_an_unknown_error(agency, db_url)
            assert run.returncode == 1, run.stderr
            wait_for(lambda: len(receiver.posts) == 1, 10, "the owner's message")
            [decision] = decision_rows(daemon_store, "nick-prospecting:b1")
            assert (decision["kind"], decision["tier"], decision["action"]) == (
                "unhandled_error",
                "owner-now",
                "escalate",
            )
            path, body = receiver.posts[0]
            assert path == "ceo"  # Nick's owner, whatever the process's own tier says
            text = f"{body['title']}\n{body['message']}"
            for needed in (
                f"decision {decision['id']}",
                "nick",
                "nick-prospecting:b1",
                f"decision ack {decision['id']}",
            ):
                assert needed in text, text
            with daemon_store.read() as conn:
                committed = conn.execute(
                    select(events.c.recorded_at).where(events.c.id == decision["first_event_id"])
                ).scalar_one()
            assert (receiver.arrived[0] - committed).total_seconds() < 1.0

            acked = subprocess.run(
                orgplane_argv(
                    agency,
                    db_url,
                    "decision",
                    "ack",
                    str(decision["id"]),
                    "--note",
                    "looking at LM-503",
                ),
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert acked.returncode == 0, acked.stderr
            acked_at = decision_rows(daemon_store, "nick-prospecting:b1")[0]["acked_at"]
            assert isinstance(acked_at, datetime)
            wait_for(lambda: len(receiver.posts) == 2, 20, "the re-send once the ack expired")
            assert (receiver.arrived[1] - acked_at).total_seconds() >= 4.0 - 0.05
            time.sleep(3.0)  # the follow-up loop keeps running: nothing more
            assert len(receiver.posts) == 2
            reasons = [row["reason"] for row in notification_rows(daemon_store)]
            assert reasons == ["opened", "ack_expired"]
        finally:
            code, log = stop(daemon)
    assert code == 0, log


def test_a_daemon_killed_between_deciding_and_sending_has_it_sent_once_after_restart(
    agency: Path, db_url: str, daemon_store: Store
) -> None:
    with receiving() as receiver:
        point_people_at(agency, receiver)
        queued_only = start_daemon(agency, db_url, interval="1h", extra=["--no-send"])
        try:
            wait_for(lambda: _checked(daemon_store), 20, "the daemon's start")
            _record_unhandled(daemon_store, "nick-prospecting:k1", "nick")
            wait_for(lambda: len(notification_rows(daemon_store)) == 1, 10, "the queued message")
        finally:
            queued_only.send_signal(signal.SIGKILL)  # decided and committed; nothing sent
            queued_only.wait()
        assert receiver.posts == []
        restarted = [start_daemon(agency, db_url, interval="1h") for _ in range(2)]
        try:
            wait_for(lambda: len(receiver.posts) == 1, 20, "the message after the restart")
            time.sleep(2.5)  # both daemons keep sending what is due: nothing more is
        finally:
            logs = [stop(d) for d in restarted]
    for code, log in logs:
        assert code == 0, log
    assert [path for path, _ in receiver.posts] == ["ceo"]
    [row] = notification_rows(daemon_store)
    assert (row["status"], row["attempts"]) == ("sent", 1)


def test_a_target_that_never_answers_delays_no_decision(
    agency: Path, db_url: str, daemon_store: Store
) -> None:
    with receiving() as receiver:
        point_people_at(agency, receiver)

        def hang_ceo(doc: dict) -> None:  # type: ignore[type-arg]
            doc["seats"]["ceo"]["notify_urls"] = [receiver.url("hang-ceo")]

        edit_org_file(agency, hang_ceo)
        daemon = start_daemon(agency, db_url, interval="1h")
        try:
            wait_for(lambda: _checked(daemon_store), 20, "the daemon's start")
            stuck = _record_unhandled(daemon_store, "nick-prospecting:h0", "nick")  # to ceo
            wait_for(
                lambda: _attempts(daemon_store, "sending") or _tried(daemon_store),
                10,
                "the send to ceo under way",
            )
            later = [
                _record_unhandled(daemon_store, f"pepper-triage:h{n}", "pepper")  # to client-lead
                for n in range(1, 6)
            ]
            wait_for(lambda: len(receiver.posts) >= 5, 20, "the other owner's messages")
            wait_for(lambda: _tried(daemon_store), 30, "the hanging send on record")
        finally:
            receiver.release.set()
            code, log = stop(daemon)
        assert code == 0, log
        with daemon_store.read() as conn:
            latency = dict(
                conn.execute(select(decision_events.c.event_id, decision_events.c.latency_ms)).all()
            )
            stuck_rows = (
                conn.execute(
                    select(notification_attempts.c.status)
                    .join(
                        notifications, notifications.c.id == notification_attempts.c.notification_id
                    )
                    .where(notifications.c.recipient == "ceo")
                )
                .scalars()
                .all()
            )
            ceo = conn.execute(
                select(notifications.c.status, notifications.c.next_attempt_at).where(
                    notifications.c.recipient == "ceo"
                )
            ).one()
        assert all(latency[e] < 1000 for e in [stuck, *later]), latency
        assert [p for p, _ in receiver.posts] == ["client-lead"] * 5
        assert stuck_rows and set(stuck_rows) <= {"timeout", "failure"}
        assert ceo.status == "retrying"  # on record, to be tried again with backoff


def _record_unhandled(store: Store, run_id: str, seat: str) -> int:
    with store.write() as conn:
        ident = record_event(
            conn,
            FailureEvent(
                kind="unhandled_error",
                occurred_at=utcnow(),
                subject_kind="run",
                subject_id=run_id,
                seat_id=seat,
                message="an error nobody planned for",
            ),
        )
    assert ident is not None
    return ident


def _attempts(store: Store, status: str) -> bool:
    with store.read() as conn:
        return bool(
            conn.execute(
                select(func.count())
                .select_from(notifications)
                .where(notifications.c.status == status)
            ).scalar()
        )


def _tried(store: Store) -> bool:
    with store.read() as conn:
        return bool(conn.execute(select(func.count()).select_from(notification_attempts)).scalar())

"""Dead runs found and restarted a bounded number of times, on both backends.

A run of Nick's prospecting whose worker held five records and died: the sweep records one
crash per dead worker (however often it looks), the example org's ``restart`` tier decides
``resume``, each attempt is claimed once however many daemons plan, and past the tier's
``attempts`` the decision turns into an escalation. A run that finishes closes its decisions.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import select, update

from orgplane.org.edit import edit_org_file
from orgplane.org.loader import load_org
from orgplane.org.models import Org
from orgplane.respond.decisions import decide_pending, get_decision
from orgplane.respond.resume import STARTUP_GRACE, finish_attempt, plan_resumes, record_recoveries
from orgplane.runs.process import store_run
from orgplane.runs.rawdb import RawDb
from orgplane.runs.stalls import find_stalls, record_stalls
from orgplane.store.engine import Store
from orgplane.store.sync import sync_org
from orgplane.store.tables import events, resume_attempts, run_records, runs
from orgplane.store.types import utcnow

COMMAND = ["orgplane", "run", "resume"]


def dead_run(store: Store, org: Org, worker: str = "w-dead", lease_s: float = 1.0) -> str:
    """A run of 30 records whose first five are leased to ``worker``, which never renews."""
    records = [
        {"key": str(i), "email": f"p{i}@example.com", "name": "P", "company": "C"}
        for i in range(1, 31)
    ]
    db = RawDb(store)
    try:
        stored = store_run(
            db,
            org.processes["nick-prospecting"],
            records,
            batch="dead",
            claim_for=(worker, 5, timedelta(seconds=lease_s)),
        )
    finally:
        db.close()
    return stored.run_id


def crash_count(store: Store, run_id: str) -> int:
    with store.read() as conn:
        rows = conn.execute(
            select(events.c.id).where(events.c.kind == "crash", events.c.subject_id == run_id)
        ).all()
    return len(rows)


def test_a_run_is_stalled_only_once_every_lease_has_run_out(store: Store, org: Org) -> None:
    run_id = dead_run(store, org)
    now = utcnow()
    with store.read() as conn:
        assert find_stalls(conn, now) == []  # the lease is still alive
        [stall] = find_stalls(conn, now + timedelta(seconds=2))
    assert (stall.run_id, stall.workers, stall.pending) == (run_id, ("w-dead",), 30)
    for _ in range(3):  # every sweep sees it; one event for the dead worker
        with store.write() as conn:
            record_stalls(conn, now + timedelta(seconds=2))
    assert crash_count(store, run_id) == 1


def test_a_run_nobody_ever_claimed_is_not_stalled(store: Store, org: Org) -> None:
    db = RawDb(store)
    try:
        store_run(db, org.processes["nick-prospecting"], [{"key": "1"}], batch="unclaimed")
    finally:
        db.close()
    with store.read() as conn:
        assert find_stalls(conn, utcnow() + timedelta(hours=1)) == []


def resume_decision(store: Store, org: Org, run_id: str) -> int:
    later = utcnow() + timedelta(seconds=2)
    with store.write() as conn:
        record_stalls(conn, later)
        [outcome] = decide_pending(conn, org)
        row = get_decision(conn, outcome.decision_id)
    assert (row["tier"], row["action"], row["subject_id"]) == ("restart", "resume", run_id)
    return int(row["id"])


def test_each_attempt_is_claimed_once_and_the_last_escalates(agency: Path, db_url: str) -> None:
    edit_org_file(agency, lambda doc: doc["urgency"]["restart"].__setitem__("attempts", 2))
    org = load_org(agency)
    from orgplane.store.engine import open_store

    store = open_store(db_url)
    try:
        sync_org(store, org)
        run_id = dead_run(store, org)
        decision_id = resume_decision(store, org, run_id)
        now = utcnow() + timedelta(seconds=2)

        def plan(at: object) -> tuple[list, list]:  # type: ignore[type-arg]
            with store.write() as conn:
                return plan_resumes(conn, org, at, host="h", argv=COMMAND)  # type: ignore[arg-type]

        due, gone = plan(now)
        assert [(d.decision_id, d.run_id, d.attempt) for d in due] == [(decision_id, run_id, 1)]
        assert plan(now) == ([], [])  # a second daemon, same moment: nothing for it
        # The attempt started but never claimed a record: after the grace it counts as over.
        later = now + STARTUP_GRACE + timedelta(seconds=1)
        (second,), _ = plan(later)
        assert second.attempt == 2
        with store.write() as conn:
            finish_attempt(conn, second, 1, later)  # it exited 1
        due, gone = plan(later)
        assert due == [] and [(g.decision_id, g.attempts) for g in gone] == [(decision_id, 2)]
        assert plan(later) == ([], [])  # escalated once
        with store.read() as conn:
            row = get_decision(conn, decision_id)
            stored = conn.execute(
                select(resume_attempts.c.attempt, resume_attempts.c.command).where(
                    resume_attempts.c.decision_id == decision_id
                )
            ).all()
        assert row["action"] == "escalate"
        assert [a for a, _ in stored] == [1, 2]
        assert stored[0][1] == f"orgplane run resume {run_id}"
    finally:
        store.dispose()


def test_a_live_lease_means_nobody_restarts_the_run(store: Store, org: Org) -> None:
    run_id = dead_run(store, org)
    resume_decision(store, org, run_id)
    with store.write() as conn:  # another worker took the records over and is alive
        conn.execute(
            update(run_records)
            .where(run_records.c.run_id == run_id, run_records.c.seq == 1)
            .values(lease_owner="w-alive", lease_until=utcnow() + timedelta(minutes=5))
        )
        due, gone = plan_resumes(conn, org, utcnow() + timedelta(seconds=2), host="h", argv=COMMAND)
    assert (due, gone) == ([], [])


def test_a_finished_run_closes_its_open_decisions_once(store: Store, org: Org) -> None:
    run_id = dead_run(store, org)
    decision_id = resume_decision(store, org, run_id)
    with store.write() as conn:
        assert record_recoveries(conn, utcnow()) == []  # still running: nothing recovered
        conn.execute(
            update(runs).where(runs.c.id == run_id).values(status="finished", finished_at=utcnow())
        )
        [recovered] = record_recoveries(conn, utcnow())
        assert record_recoveries(conn, utcnow()) == []  # keyed: never twice
        [outcome] = decide_pending(conn, org)
        assert (outcome.event_id, outcome.effect, outcome.decision_id) == (
            recovered,
            "closed",
            decision_id,
        )
        assert get_decision(conn, decision_id)["status"] == "closed"


def test_a_paused_run_is_restarted_a_failed_one_is_not(store: Store, org: Org) -> None:
    run_id = dead_run(store, org)
    resume_decision(store, org, run_id)
    later = utcnow() + timedelta(seconds=2)  # the dead worker's lease has run out
    with store.write() as conn:
        conn.execute(update(runs).where(runs.c.id == run_id).values(status="failed"))
        assert plan_resumes(conn, org, later, host="h", argv=COMMAND) == ([], [])
        # Paused on a transient error: a later attempt is what the pause asks for.
        conn.execute(update(runs).where(runs.c.id == run_id).values(status="paused"))
        due, _ = plan_resumes(conn, org, later, host="h", argv=COMMAND)
    assert [(d.run_id, d.attempt) for d in due] == [(run_id, 1)]

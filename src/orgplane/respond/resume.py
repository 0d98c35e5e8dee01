"""The ``resume`` action: restart a run whose workers died (or that paused on a transient error),
from its checkpoint, a bounded number of times; and close what a finished run has answered.

This module decides and records; the daemon starts the process. An attempt is claimed by
inserting its ``resume_attempts`` row (the primary key is the compare-and-set), so of several
daemons on one store exactly one restarts a run. A new attempt is due only when no lease of the
run is alive and the previous attempt is over (its process exited, or it had ``grace`` to claim
a record and holds none). After ``attempts`` tries the decision becomes an escalation: a person
is told, with the deadline starting now.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, and_, func, select, update

from orgplane.org.models import Org
from orgplane.respond.events import FailureEvent, record_events
from orgplane.respond.followups import AckCommand, default_command, escalate
from orgplane.runs.statements import RecordState, RunState
from orgplane.store.tables import decisions, resume_attempts, run_records, runs
from orgplane.store.upsert import dialect_insert

__all__ = ["ResumeDue", "finish_attempt", "plan_resumes", "record_recoveries"]

DEFAULT_ATTEMPTS = 3
STARTUP_GRACE = timedelta(seconds=30)
"""How long a started attempt may take to claim its first record before it counts as over."""


@dataclass(frozen=True)
class ResumeDue:
    """An attempt claimed by this caller: start ``run_id`` again now."""

    decision_id: int
    run_id: str
    attempt: int


@dataclass(frozen=True)
class Exhausted:
    """A run restarted ``attempts`` times without finishing: its decision now escalates."""

    decision_id: int
    run_id: str
    attempts: int


def record_recoveries(conn: Connection, now: datetime) -> list[int]:
    """A ``recovered`` event for each run that finished while a decision about it is open (the
    event closes those decisions). Inside the caller's transaction; ids of the new events."""
    finished = (
        select(runs.c.id, runs.c.seat_id, runs.c.finished_at)
        .where(
            runs.c.status == RunState.FINISHED.value,
            runs.c.id.in_(
                select(decisions.c.subject_id).where(
                    decisions.c.subject_kind == "run", decisions.c.status == "open"
                )
            ),
        )
        .order_by(runs.c.id)
    )
    batch = [
        FailureEvent(
            kind="recovered",
            occurred_at=row.finished_at or now,
            subject_kind="run",
            subject_id=row.id,
            run_id=row.id,
            seat_id=row.seat_id,
            message=f"run {row.id} finished",
            dedupe_key=f"recovered:run:{row.id}"[:300],
        )
        for row in conn.execute(finished)
    ]
    return [i for i in record_events(conn, batch) if i is not None]


def plan_resumes(
    conn: Connection,
    org: Org,
    now: datetime,
    *,
    host: str,
    argv: list[str],
    grace: timedelta = STARTUP_GRACE,
    ack: AckCommand = default_command,
) -> tuple[list[ResumeDue], list[Exhausted]]:
    """Claim the attempts due now for every open ``resume`` decision about a run, inside the
    caller's transaction (commit, then start each). ``argv`` is the command the run id is
    appended to; it is stored with the attempt. A decision out of attempts becomes an
    escalation, its person's message queued in the same transaction (``ack(id)`` is the command
    it gives to acknowledge), and is returned as ``Exhausted``."""
    open_resumes = conn.execute(
        select(decisions.c.id, decisions.c.subject_id, decisions.c.tier)
        .where(
            decisions.c.status == "open",
            decisions.c.action == "resume",
            decisions.c.subject_kind == "run",
        )
        .order_by(decisions.c.id)
    ).all()
    due: list[ResumeDue] = []
    exhausted: list[Exhausted] = []
    for decision_id, run_id, tier_id in open_resumes:
        if not _resumable(conn, run_id, now):
            continue
        last = conn.execute(
            select(resume_attempts)
            .where(resume_attempts.c.decision_id == decision_id)
            .order_by(resume_attempts.c.attempt.desc())
            .limit(1)
        ).first()
        if last is not None and last.finished_at is None and last.started_at + grace > now:
            continue  # still starting up: give it the time to claim a record
        done = int(last.attempt) if last is not None else 0
        tier = org.urgency.get(tier_id) if tier_id else None
        limit = tier.attempts if tier is not None else DEFAULT_ATTEMPTS
        if done >= limit:
            if _escalate(conn, decision_id, now, tier.deadline if tier else timedelta(0)):
                escalate(conn, org, decision_id, now, reason="attempts", command=ack)
                exhausted.append(Exhausted(decision_id, run_id, done))
            continue
        claimed = conn.execute(
            dialect_insert(conn, resume_attempts)
            .values(
                decision_id=decision_id,
                attempt=done + 1,
                run_id=run_id,
                started_at=now,
                host=host,
                command=" ".join([*argv, run_id]),
            )
            .on_conflict_do_nothing(index_elements=["decision_id", "attempt"])
            .returning(resume_attempts.c.attempt)
        ).first()
        if claimed is not None:
            due.append(ResumeDue(decision_id, run_id, done + 1))
    return due, exhausted


def _resumable(conn: Connection, run_id: str, now: datetime) -> bool:
    """Still ``running`` (its workers died) or ``paused`` (a transient error outlasted its
    retries: a later attempt is what ``pause`` asks for), something left to do, and no lease
    alive: nobody is working it. A failed run is never restarted here: it stopped on an error,
    and an unhandled one must be classified first (:mod:`orgplane.runs.holds`)."""
    status = conn.execute(select(runs.c.status).where(runs.c.id == run_id)).scalar()
    if status not in (RunState.RUNNING.value, RunState.PAUSED.value):
        return False
    left, alive = conn.execute(
        select(
            func.count(),
            func.count().filter(run_records.c.lease_until >= now),
        ).where(run_records.c.run_id == run_id, run_records.c.state == RecordState.ACTIVE.value)
    ).one()
    return bool(left) and not alive


def _escalate(conn: Connection, decision_id: int, now: datetime, deadline: timedelta) -> bool:
    """Turn a resume decision into an escalation (compare-and-set on its action)."""
    changed = conn.execute(
        update(decisions)
        .where(and_(decisions.c.id == decision_id, decisions.c.action == "resume"))
        .values(action="escalate", deadline=now + deadline, updated_at=now)
    )
    return changed.rowcount == 1


def record_pid(conn: Connection, due: ResumeDue, pid: int) -> None:
    """Note the process an attempt started (for the log and ``finish_attempt``)."""
    conn.execute(
        update(resume_attempts)
        .where(
            resume_attempts.c.decision_id == due.decision_id,
            resume_attempts.c.attempt == due.attempt,
        )
        .values(pid=pid)
    )


def finish_attempt(conn: Connection, due: ResumeDue, exit_code: int, at: datetime) -> None:
    """Record that an attempt's process exited (the next attempt may then start at once)."""
    conn.execute(
        update(resume_attempts)
        .where(
            resume_attempts.c.decision_id == due.decision_id,
            resume_attempts.c.attempt == due.attempt,
        )
        .values(finished_at=at, exit_code=exit_code)
    )

"""Hand-offs: a record a stage gives to a person because it needs judgment, not because it failed.

A stage calls :func:`handoff` (``orgplane checkpoint --handoff SEAT --reason TEXT`` for agents
that are not Python). The record is settled ``handed_off``: no failure event, no incident, the
run goes on with the other records and may finish while hand-offs are open. Each hand-off is a
row of the human queue (``handoffs``); the person resolves it ``done`` (they finished it) or
``return`` (the record goes back into its run at the next stage, the person's output as that
stage's input). An item older than its seat's ``answers_within`` becomes exactly one
``overdue_handoff`` failure event (a person running late is a failure too).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, NoReturn

from sqlalchemy import Connection, and_, insert, select, update

from orgplane.errors import NotFoundError, UsageError
from orgplane.org.durations import format_duration
from orgplane.org.models import Org, Seat
from orgplane.respond.events import FailureEvent, record_event
from orgplane.runs.registry import idempotency_key
from orgplane.runs.statements import Checkpoint, RecordState, RunState, json_or_null
from orgplane.store.engine import Store
from orgplane.store.tables import handoffs, run_checkpoints, run_records, runs
from orgplane.store.types import utcnow
from orgplane.store.upsert import dialect_insert

__all__ = [
    "HandOff",
    "Outcome",
    "check_target",
    "handoff",
    "handoff_row",
    "queue",
    "record_overdue",
    "resolve",
]

Outcome = Literal["done", "return"]
OUTCOMES: tuple[Outcome, ...] = ("done", "return")
MAX_REASON = 2000
FAILURE_STATES = (RunState.FAILED.value, RunState.HELD.value)
"""Run states in which a person doing a record's work is doing it after a failure."""


class HandOff(Exception):
    """Raised by :func:`handoff` inside a stage; the runner settles the record ``handed_off``."""

    def __init__(self, to: str, reason: str) -> None:
        super().__init__(f"handed off to {to}: {reason}")
        self.to = to
        self.reason = reason


def handoff(to: str, reason: str) -> NoReturn:
    """Hand the current record to the human seat ``to``, with ``reason``; call it in a stage.

    It does not return: the record leaves the run as ``handed_off`` (not failed, no event) and
    waits in ``to``'s queue. A target that is not an active human seat stops the run as an
    unhandled error naming it (the stage's code is wrong, not the record)."""
    raise HandOff(to, reason)


def check_target(org: Org, to: str, reason: str) -> Seat:
    """The active human seat ``to``; UsageError naming it (and the fix) otherwise, or when
    ``reason`` is empty or too long."""
    seat = org.seats.get(to)
    humans = sorted(s.id for s in org.seats.values() if s.kind == "human" and s.status == "active")
    if seat is None or seat.kind != "human" or seat.status != "active":
        what = (
            "is not a seat"
            if seat is None
            else "is an agent seat"
            if seat.kind != "human"
            else "is retired"
        )
        raise UsageError(
            f"hand-off target {to!r} {what} of {org.name}; hand records to an active human "
            f"seat: {', '.join(humans) or 'none declared'}"
        )
    if not reason or not reason.strip():
        raise UsageError("a hand-off needs a reason, e.g. --reason 'fits no bucket'")
    if len(reason) > MAX_REASON:
        raise UsageError(f"a hand-off reason is at most {MAX_REASON} characters")
    return seat


def handoff_row(
    *,
    run_id: str,
    record_key: str,
    stage: str,
    process_id: str,
    from_seat: str | None,
    to: str,
    reason: str,
    during_failure: bool,
    now: datetime,
) -> dict[str, Any]:
    """The ``handoffs`` row of a new hand-off (open: not resolved)."""
    return {
        "run_id": run_id,
        "record_key": record_key,
        "stage": stage,
        "process_id": process_id,
        "from_seat": from_seat,
        "to_seat": to,
        "reason": reason,
        "created_at": now,
        "output": json_or_null(None),
        "during_failure": during_failure,
    }


def handoff_error(to: str, reason: str) -> dict[str, Any]:
    """What the ``handed_off`` checkpoint row keeps in its ``error`` column: who has it, why."""
    return {"handoff": {"to": to, "reason": reason}, "message": f"handed off to {to}: {reason}"}


def insert_handoffs(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Store new hand-offs inside the caller's transaction (with the checkpoint that made them)."""
    if rows:
        conn.execute(insert(handoffs), rows)


@dataclass(frozen=True)
class QueueItem:
    """One open hand-off as its person sees it."""

    id: int
    run_id: str
    record_key: str
    stage: str
    process_id: str
    from_seat: str | None
    to_seat: str
    reason: str
    created_at: datetime
    age_seconds: int
    answers_within: str | None
    overdue: bool
    during_failure: bool


def queue(conn: Connection, org: Org, seat: str | None, now: datetime) -> list[QueueItem]:
    """The open hand-offs of ``seat`` (every seat's when None), oldest first."""
    query = (
        select(handoffs)
        .where(handoffs.c.resolved_at.is_(None))
        .order_by(handoffs.c.created_at, handoffs.c.id)
    )
    if seat is not None:
        query = query.where(handoffs.c.to_seat == seat)
    items = []
    for row in conn.execute(query):
        declared = org.seats.get(row.to_seat)
        within = declared.answers_within if declared is not None else None
        age = now - row.created_at
        items.append(
            QueueItem(
                id=row.id,
                run_id=row.run_id,
                record_key=row.record_key,
                stage=row.stage,
                process_id=row.process_id,
                from_seat=row.from_seat,
                to_seat=row.to_seat,
                reason=row.reason,
                created_at=row.created_at,
                age_seconds=max(0, int(age.total_seconds())),
                answers_within=format_duration(within) if within is not None else None,
                overdue=within is not None and age >= within,
                during_failure=bool(row.during_failure),
            )
        )
    return items


def find(conn: Connection, handoff_id: int, *, lock: bool = False) -> Any:
    """The ``handoffs`` row ``handoff_id``; NotFoundError naming how to list them."""
    query = select(handoffs).where(handoffs.c.id == handoff_id)
    row = conn.execute(query.with_for_update() if lock else query).first()
    if row is None:
        raise NotFoundError(
            f"no hand-off #{handoff_id}; list them with 'orgplane queue'",
            kind="handoff",
            name=str(handoff_id),
        )
    return row


def resolve(
    store: Store,
    handoff_id: int,
    outcome: str,
    *,
    output: Any = None,
    output_given: bool = False,
    note: str | None = None,
    by: str | None = None,
) -> Any:
    """Close hand-off ``handoff_id`` with ``outcome``, in one transaction; the resolved row.

    ``done``: the person finished the record (it stays ``handed_off``; ``output`` is kept).
    ``return``: the record goes back into its run at the stage after the one that handed it
    off, ``output`` as that stage's input (the handing stage is done with it); a finished or
    held run becomes running again (a resume or a worker picks it up; a failed run stays failed
    until resumed). Returned at its last stage, the record is simply done. UsageError for an
    unknown outcome, ``return`` without an output, or an item already resolved.
    """
    if outcome not in OUTCOMES:
        raise UsageError(f"--outcome {outcome!r}: give done or return")
    if outcome == "return" and not output_given:
        raise UsageError(
            "--outcome return needs --output JSON: the output the next stage takes as its input"
        )
    if note is not None and len(note) > MAX_REASON:
        raise UsageError(f"a note is at most {MAX_REASON} characters")
    now = utcnow()
    with store.write() as conn:
        row = find(conn, handoff_id, lock=True)
        if row.resolved_at is not None:
            raise UsageError(
                f"hand-off #{handoff_id} was already resolved ({row.outcome}) by "
                f"{row.resolved_by or 'the operator'} at {row.resolved_at:%Y-%m-%d %H:%M} UTC"
            )
        if outcome == "return":
            _send_back(conn, row, output, now)
        conn.execute(
            update(handoffs)
            .where(handoffs.c.id == handoff_id)
            .values(
                resolved_at=now,
                resolved_by=by,
                outcome=outcome,
                output=json_or_null(output) if output_given else json_or_null(None),
                note=note,
            )
        )
        return find(conn, handoff_id)


def _send_back(conn: Connection, row: Any, output: Any, now: datetime) -> None:
    run = conn.execute(select(runs).where(runs.c.id == row.run_id)).first()
    if run is None:
        raise NotFoundError(f"hand-off #{row.id}: its run {row.run_id} is gone", kind="run")
    record = conn.execute(
        select(run_records)
        .where(run_records.c.run_id == row.run_id, run_records.c.key == row.record_key)
        .with_for_update()
    ).first()
    if record is None or record.state != RecordState.HANDED_OFF:
        state = record.state if record is not None else "gone"
        raise UsageError(
            f"hand-off #{row.id}: record {row.record_key} of run {row.run_id} is {state}, not "
            "handed_off; resolve it --outcome done"
        )
    names = [s["name"] for s in run.stages]
    last = names.index(row.stage) == len(names) - 1 if row.stage in names else True
    values = {
        "run_id": row.run_id,
        "seq": record.seq,
        "stage": row.stage,
        "status": Checkpoint.DONE.value,
        "output": output,
        "error": json_or_null(None),
        "idempotency_key": idempotency_key(row.run_id, row.record_key, row.stage),
        "attempts": 0,
        "worker": "handoff",
        "reconciled": "person",
        "updated_at": now,
    }
    statement = dialect_insert(conn, run_checkpoints).values(**values)
    keep = {k: statement.excluded[k] for k in values if k not in ("run_id", "seq", "stage")}
    conn.execute(
        statement.on_conflict_do_update(index_elements=["run_id", "seq", "stage"], set_=keep)
    )
    later = names[names.index(row.stage) + 1 :] if row.stage in names else []
    if later:  # the stages the person held: to do again, from the person's output
        conn.execute(
            update(run_checkpoints)
            .where(
                run_checkpoints.c.run_id == row.run_id,
                run_checkpoints.c.seq == record.seq,
                run_checkpoints.c.stage.in_(later),
                run_checkpoints.c.status == Checkpoint.HANDED_OFF.value,
            )
            .values(status=Checkpoint.PENDING.value, error=json_or_null(None), updated_at=now)
        )
    state = RecordState.DONE if last else RecordState.ACTIVE
    conn.execute(
        update(run_records)
        .where(run_records.c.run_id == row.run_id, run_records.c.seq == record.seq)
        .values(state=state.value, lease_owner=None, lease_until=None)
    )
    if not last and run.status in (RunState.FINISHED, RunState.HELD, RunState.STOPPED):
        conn.execute(
            update(runs)
            .where(runs.c.id == row.run_id)
            .values(status=RunState.RUNNING.value, finished_at=None)
        )


def record_overdue(conn: Connection, org: Org, now: datetime) -> int:
    """Record one ``overdue_handoff`` failure event for each open hand-off older than its seat's
    ``answers_within``, inside the caller's transaction; how many were recorded now.

    The event's dedupe key is the hand-off's id, so two watchers (or two passes) record it once;
    the hand-off keeps the event's id, so later passes skip it without asking."""
    within = {s.id: s.answers_within for s in org.seats.values() if s.answers_within is not None}
    if not within:
        return 0
    rows = conn.execute(
        select(handoffs).where(
            and_(
                handoffs.c.resolved_at.is_(None),
                handoffs.c.overdue_event_id.is_(None),
                handoffs.c.to_seat.in_(sorted(within)),
            )
        )
    ).all()
    recorded = 0
    for row in rows:
        limit = within[row.to_seat]
        due = row.created_at + limit
        if due > now:
            continue
        event_id = record_event(
            conn,
            FailureEvent(
                kind="overdue_handoff",
                occurred_at=due,
                subject_kind="seat",
                subject_id=row.to_seat,
                seat_id=row.to_seat,
                run_id=row.run_id,
                record_key=row.record_key,
                stage=row.stage,
                visible=True,
                message=(
                    f"hand-off #{row.id} (record {row.record_key} of run {row.run_id}, stage "
                    f"{row.stage}) has waited for {row.to_seat} longer than its "
                    f"{format_duration(limit)}; resolve it with 'orgplane queue resolve {row.id} "
                    "--outcome done|return'"
                ),
                details={
                    "handoff_id": row.id,
                    "process_id": row.process_id,
                    "reason": row.reason,
                    "answers_within": format_duration(limit),
                    "created_at": row.created_at.isoformat(),
                },
                dedupe_key=f"overdue_handoff:{row.id}",
            ),
        )
        if event_id is None:
            continue  # another watcher recorded it first (and sets the id itself)
        conn.execute(
            update(handoffs)
            .where(handoffs.c.id == row.id, handoffs.c.overdue_event_id.is_(None))
            .values(overdue_event_id=event_id)
        )
        recorded += 1
    return recorded

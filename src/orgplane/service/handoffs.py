"""Use cases of the human queue: list a seat's hand-offs, resolve one.

A human seat acting through a token sees and resolves only its own items; the local operator
(``actor=None``) sees and resolves every seat's.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

from orgplane.errors import NotFoundError
from orgplane.service.models import Result
from orgplane.service.permissions import acting_seat, require_own
from orgplane.service.session import Session


class QueueItemView(Result):
    """One open hand-off: what waits for a person, from which run and stage, why, how long."""

    id: int
    seat: str
    run_id: str
    record: str
    stage: str
    process_id: str
    from_seat: str | None
    reason: str
    created_at: datetime
    age_seconds: int
    age: str
    answers_within: str | None
    overdue: bool
    during_failure: bool
    resolve: str


class QueueView(Result):
    """The open hand-offs of one seat (or every seat), oldest first (``queue --json``)."""

    seat: str | None
    items: list[QueueItemView]
    overdue: int


class ResolvedView(Result):
    """A hand-off as resolved (``queue resolve --json``)."""

    id: int
    seat: str
    run_id: str
    record: str
    stage: str
    outcome: Literal["done", "return"]
    output: Any
    note: str | None
    resolved_at: datetime
    resolved_by: str | None
    run_state: str
    resume: str | None


def queue(
    session: Session,
    seat: str | None = None,
    *,
    now: datetime | None = None,
    actor: str | None = None,
) -> QueueView:
    """The open hand-offs of ``seat`` (every seat's when None), oldest first, with their age.

    A seat acting (``actor``) sees only its own queue: no ``seat`` means its own, another seat
    is PermissionDenied. NotFoundError for a seat the org does not declare."""
    from orgplane.org.durations import humanize_age
    from orgplane.runs.handoffs import queue as open_items
    from orgplane.store.types import utcnow

    org = session.org()
    if actor is not None:
        seat = seat or acting_seat(org, actor).id
        require_own(org, actor, seat, f"the queue of {seat}")
    if seat is not None and seat not in org.seats:
        raise NotFoundError(
            f"no seat {seat!r} in {org.source}; the queue belongs to a human seat",
            kind="seat",
            name=seat,
        )
    now = now or utcnow()
    with session.store().read() as conn:
        items = open_items(conn, org, seat, now)
    views = [
        QueueItemView(
            id=i.id,
            seat=i.to_seat,
            run_id=i.run_id,
            record=i.record_key,
            stage=i.stage,
            process_id=i.process_id,
            from_seat=i.from_seat,
            reason=i.reason,
            created_at=i.created_at,
            age_seconds=i.age_seconds,
            age=humanize_age(timedelta(seconds=i.age_seconds)),
            answers_within=i.answers_within,
            overdue=i.overdue,
            during_failure=i.during_failure,
            resolve=session.command("queue", "resolve", str(i.id)) + " --outcome done|return",
        )
        for i in items
    ]
    return QueueView(seat=seat, items=views, overdue=sum(1 for v in views if v.overdue))


def resolve_handoff(
    session: Session,
    handoff_id: int,
    outcome: str,
    *,
    output: str | None = None,
    note: str | None = None,
    actor: str | None = None,
) -> ResolvedView:
    """Close hand-off ``handoff_id``: ``done`` (the person finished the record) or ``return``
    (the record goes back into its run at the next stage, ``output`` (JSON text) as that
    stage's input). Only the seat it was handed to (or the operator) may resolve it."""
    from orgplane.runs.handoffs import find, resolve
    from orgplane.runs.status import run_status
    from orgplane.service.runs import _parse_output

    org = session.org()
    store = session.store()
    if actor is not None:
        with store.read() as conn:
            to_seat = find(conn, handoff_id).to_seat
        require_own(org, actor, to_seat, f"hand-off #{handoff_id}")
    row = resolve(
        store,
        handoff_id,
        outcome,
        output=_parse_output(output),
        output_given=output is not None,
        note=note,
        by=actor,
    )
    status = run_status(store, row.run_id)
    waiting = status.state in ("running", "stopped", "failed", "held")
    return ResolvedView(
        id=row.id,
        seat=row.to_seat,
        run_id=row.run_id,
        record=row.record_key,
        stage=row.stage,
        outcome=row.outcome,
        output=row.output,
        note=row.note,
        resolved_at=row.resolved_at,
        resolved_by=row.resolved_by,
        run_state=status.state,
        resume=session.command("run", "resume", row.run_id)
        if outcome == "return" and waiting
        else None,
    )

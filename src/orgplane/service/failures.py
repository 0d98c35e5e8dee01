"""Use case: a seat reports a failure of its own work (an agent that cannot go on says so).

The failure is stored as a failure event like those the watcher and the runner record, so the
decision engine decides it within a second under the daemon, with the same tiers and routes.
A seat reports only on its own processes, runs and outputs (:mod:`orgplane.service.permissions`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal, get_args

from orgplane.errors import NotFoundError, UsageError
from orgplane.service.models import Result
from orgplane.service.permissions import require_own
from orgplane.service.session import Session

ReportedKind = Literal[
    "crash",
    "unhandled_error",
    "handled_error",
    "invalid",
    "empty_input",
    "missing",
    "corrupt",
    "stale",
]
"""The kinds a seat may report (not ``recovered``: recovery is seen, not declared)."""
ReportedSubject = Literal["process", "run", "output"]
MAX_MESSAGE = 2000


class ReportedFailure(Result):
    """The failure event stored for a report; the decision engine takes it from here."""

    event_id: int
    kind: str
    subject_kind: str
    subject_id: str
    seat: str
    run_id: str | None
    occurred_at: datetime
    message: str
    decide: str
    """The command that decides it now when no daemon runs."""


def report_failure(
    session: Session,
    subject_kind: ReportedSubject,
    subject_id: str,
    message: str,
    *,
    kind: ReportedKind = "unhandled_error",
    record: str | None = None,
    stage: str | None = None,
    actor: str | None = None,
) -> ReportedFailure:
    """Record a visible failure event of ``kind`` on a process, run or output, for the seat it
    belongs to. NotFoundError for an undeclared subject or unknown run; UsageError for an empty
    or overlong message or a kind that cannot be reported; PermissionDenied when ``actor`` is
    not the seat the subject belongs to."""
    from orgplane.respond.events import FailureEvent, record_event
    from orgplane.store.types import utcnow

    if kind not in get_args(ReportedKind):
        raise UsageError(
            f"kind {kind!r} cannot be reported; use one of: {', '.join(get_args(ReportedKind))}"
        )
    text = message.strip()
    if not text or len(text) > MAX_MESSAGE:
        raise UsageError(
            f"message: give a one-line account of the failure, 1 to {MAX_MESSAGE} characters"
        )
    org = session.org()
    run_id = subject_id if subject_kind == "run" else None
    owner = _owner(session, subject_kind, subject_id)
    require_own(org, actor, owner, f"{subject_kind} {subject_id}")
    now = utcnow()
    event = FailureEvent(
        kind=kind,
        occurred_at=now,
        subject_kind=subject_kind,
        subject_id=subject_id,
        message=text,
        seat_id=owner,
        run_id=run_id,
        record_key=record,
        stage=stage,
        visible=True,
        details={"reported_by": actor or "operator"},
    )
    with session.store().write() as conn:
        event_id = record_event(conn, event)
    assert event_id is not None  # no dedupe key: every report is its own event
    return ReportedFailure(
        event_id=event_id,
        kind=kind,
        subject_kind=subject_kind,
        subject_id=subject_id,
        seat=owner,
        run_id=run_id,
        occurred_at=now,
        message=text,
        decide=session.command("decide", "--once"),
    )


def _owner(session: Session, subject_kind: str, subject_id: str) -> str:
    from orgplane.org.lookup import find_declared
    from orgplane.service.permissions import process_seat

    org = session.org()
    if subject_kind == "process":
        return find_declared(org.processes, "process", subject_id).seat
    if subject_kind == "output":
        return find_declared(org.outputs, "output", subject_id).producer
    if subject_kind == "run":
        from sqlalchemy import select

        from orgplane.store.tables import runs

        with session.store().read() as conn:
            process_id = conn.execute(
                select(runs.c.process_id).where(runs.c.id == subject_id)
            ).scalar()
        if process_id is None:
            raise NotFoundError(
                f"no run {subject_id!r}; list them with 'orgplane run list'",
                kind="run",
                name=subject_id,
            )
        return process_seat(org, process_id)
    raise UsageError(f"subject kind {subject_kind!r}: report on a process, run or output")

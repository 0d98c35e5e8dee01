"""Use case: a seat (or the operator) reports a failure orgplane could not see by itself.

An agent that hits an error outside any staged process, or a consumer that finds its input
wrong in a way no content check catches, records a failure event here; the decision engine
(the daemon, or ``orgplane decide``) decides it like any other event.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, get_args

from orgplane.errors import NotFoundError, UsageError
from orgplane.service.models import Result
from orgplane.service.session import Session

ReportedKind = Literal[
    "crash",
    "unhandled_error",
    "handled_error",
    "in_doubt",
    "stale",
    "corrupt",
    "missing",
    "invalid",
    "frozen",
    "missed_run",
    "empty_input",
    "paused",
    "overdue_handoff",
]
"""Every event kind but ``recovered``: recovery is what orgplane sees for itself (a fresh
output, a finished run), not something a seat declares."""

ReportedSubject = Literal["output", "metric", "process", "run", "seat", "heartbeat"]

MAX_MESSAGE = 2000
"""The longest message kept; a failure is told in a line or two, not a log dump."""


class FailureReported(Result):
    """The failure event stored, and the seat it is about (whose owner the engine tells)."""

    event_id: int
    kind: str
    subject_kind: str
    subject_id: str
    seat_id: str | None
    run_id: str | None
    record: str | None
    stage: str | None
    message: str
    occurred_at: datetime
    reported_by: str | None
    """The seat that reported it; None for the local operator."""
    next: str
    """What happens to it now, and where to follow it."""


def report_failure(
    session: Session,
    kind: ReportedKind,
    subject_kind: ReportedSubject,
    subject_id: str,
    message: str,
    *,
    run_id: str | None = None,
    record: str | None = None,
    stage: str | None = None,
    details: dict[str, Any] | None = None,
    actor: str | None = None,
) -> FailureReported:
    """Store one visible failure event about a declared subject (or a stored run), at once
    and whole. NotFoundError for an unknown subject or run; UsageError for an empty or too
    long message, or ``record`` / ``stage`` without a run; PermissionDenied unless ``actor``
    is the failing seat or reads the failing output."""
    from orgplane.respond.events import FailureEvent, record_event
    from orgplane.respond.tiers import EventFacts, failing_seat
    from orgplane.service.permissions import require_reporter
    from orgplane.store.types import utcnow

    if kind not in get_args(ReportedKind):  # surfaces check the type; a Python caller may not
        raise UsageError(
            f"kind {kind!r} cannot be reported; use one of: {', '.join(get_args(ReportedKind))}"
        )
    text = message.strip()
    if not text:
        raise UsageError("the failure's message is empty; say what failed in a line")
    if len(text) > MAX_MESSAGE:
        raise UsageError(
            f"the failure's message is {len(text)} characters; keep it under {MAX_MESSAGE} "
            "(put the rest in details)"
        )
    if (record is not None or stage is not None) and run_id is None and subject_kind != "run":
        raise UsageError("record and stage name a place in a run: give run_id with them")
    org = session.org()
    if subject_kind == "run":
        run_id = run_id or subject_id
        if run_id != subject_id:
            raise UsageError(f"subject {subject_id!r} is a run: give run_id {subject_id!r} or none")
    process_id = _run_process(session, run_id) if run_id is not None else None
    if subject_kind == "heartbeat":
        from orgplane.watch.heartbeats import heartbeat_seat

        seat_id: str | None = heartbeat_seat(org, subject_id)
    else:
        _require_declared(session, subject_kind, subject_id)
        seat_id = failing_seat(
            org, EventFacts(kind, subject_kind, subject_id, process_id=process_id)
        )
    if subject_kind == "process" and process_id not in (None, subject_id):
        raise UsageError(f"run {run_id} is of process {process_id}, not {subject_id}")
    require_reporter(org, actor, seat_id, subject_id if subject_kind == "output" else None)
    at = utcnow()
    event = FailureEvent(
        kind=kind,
        occurred_at=at,
        subject_kind=subject_kind,
        subject_id=subject_id,
        message=text,
        seat_id=seat_id,
        run_id=run_id,
        record_key=record,
        stage=stage,
        visible=True,
        details={**(details or {}), "reported_by": actor},
    )
    with session.store().write() as conn:
        event_id = record_event(conn, event)
    assert event_id is not None  # no dedupe key: every report is its own event
    return FailureReported(
        event_id=event_id,
        kind=kind,
        subject_kind=subject_kind,
        subject_id=subject_id,
        seat_id=seat_id,
        run_id=run_id,
        record=record,
        stage=stage,
        message=text,
        occurred_at=at,
        reported_by=actor,
        next=(
            "the daemon decides it within a second (or run "
            f"'{session.command('decide')}'); follow it with '{session.command('decision', 'list')}'"
        ),
    )


def _require_declared(session: Session, subject_kind: str, subject_id: str) -> None:
    from orgplane.org.lookup import find_declared

    org = session.org()
    if subject_kind == "output":
        find_declared(org.outputs, "output", subject_id)
    elif subject_kind == "metric":
        find_declared(org.metrics, "metric", subject_id)
    elif subject_kind == "process":
        find_declared(org.processes, "process", subject_id)
    elif subject_kind == "seat":
        find_declared(org.seats, "seat", subject_id)


def _run_process(session: Session, run_id: str) -> str:
    from sqlalchemy import select

    from orgplane.store.tables import runs

    with session.store().read() as conn:
        process_id = conn.execute(select(runs.c.process_id).where(runs.c.id == run_id)).scalar()
    if process_id is None:
        raise NotFoundError(
            f"no run {run_id!r}; list them with '{session.command('run', 'list')}'",
            kind="run",
            name=run_id,
        )
    return str(process_id)

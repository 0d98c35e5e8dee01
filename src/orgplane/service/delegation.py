"""Use case of the delegation ledger: ``orgplane seats delegation``."""

from __future__ import annotations

from datetime import UTC, date, datetime

from orgplane.errors import UsageError
from orgplane.service.models import Result
from orgplane.service.session import Session


class ProcessDelegationView(Result):
    """One process over the window: who finished its records, with shares of its records."""

    process_id: str
    seat: str | None
    runs: int
    records: int
    agent: int
    handed_off: int
    person_after_failure: int
    other: int
    agent_share: float | None
    handed_off_share: float | None
    person_after_failure_share: float | None
    failures: int
    person_share_of_failures: float | None
    not_delegated_at: float
    not_really_delegated: bool


class SeatDelegationView(Result):
    """One human seat's hand-offs over the window and how fast it answered them."""

    seat: str
    received: int
    answered: int
    returned: int
    open: int
    overdue: int
    median_answer_seconds: float | None
    worst_answer_seconds: float | None


class DelegationView(Result):
    """The delegation ledger (``seats delegation --json``)."""

    since: datetime
    until: datetime
    processes: list[ProcessDelegationView]
    seats: list[SeatDelegationView]
    not_really_delegated: list[str]


def delegation(
    session: Session, *, since: str | None = None, until: datetime | None = None
) -> DelegationView:
    """The delegation ledger of the runs started since ``since`` (an ISO date, default 28 days
    ago) until ``until`` (default now). UsageError for a date that cannot be read or is later
    than the end of the window."""
    from orgplane.learn.delegation import default_since, delegation_ledger
    from orgplane.store.types import utcnow

    end = until or utcnow()
    start = _since(since, end) if since is not None else default_since(end)
    with session.store().read() as conn:
        ledger = delegation_ledger(conn, session.org(), start, end)
    return DelegationView(
        since=ledger.since,
        until=ledger.until,
        processes=[
            ProcessDelegationView(
                process_id=p.process_id,
                seat=p.seat_id,
                runs=p.runs,
                records=p.records,
                agent=p.agent,
                handed_off=p.handed_off,
                person_after_failure=p.person_after_failure,
                other=p.other,
                agent_share=p.share(p.agent),
                handed_off_share=p.share(p.handed_off),
                person_after_failure_share=p.share(p.person_after_failure),
                failures=p.failures,
                person_share_of_failures=p.person_share_of_failures,
                not_delegated_at=p.not_delegated_at,
                not_really_delegated=p.not_really_delegated,
            )
            for p in ledger.processes
        ],
        seats=[
            SeatDelegationView(
                seat=s.seat_id,
                received=s.received,
                answered=s.answered,
                returned=s.returned,
                open=s.open,
                overdue=s.overdue,
                median_answer_seconds=s.median_answer_seconds,
                worst_answer_seconds=s.worst_answer_seconds,
            )
            for s in ledger.seats
        ],
        not_really_delegated=ledger.not_really_delegated,
    )


def _since(text: str, end: datetime) -> datetime:
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"--since {text!r}: give a date as YYYY-MM-DD, e.g. 2026-06-01") from None
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    if start > end:
        raise UsageError(f"--since {text}: that is after today; give an earlier date")
    return start

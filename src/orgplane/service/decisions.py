"""Use cases of the decision engine: decide pending events, list / show / acknowledge decisions.

Each takes a :class:`Session` and returns a pydantic result; the CLI (and later the HTTP API and
MCP server) only render them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from orgplane.service.models import Result
from orgplane.service.session import Session

DecisionState = Literal["live", "acknowledged", "closed"]


class DecisionView(Result):
    """One stored decision. ``state`` is ``live`` (open, not silenced), ``acknowledged``
    (open, silenced until ``acked_until``) or ``closed`` (a ``recovered`` event closed it)."""

    id: int
    state: DecisionState
    kind: str
    subject_kind: str
    subject_id: str
    seat_id: str | None
    tier: str | None
    rule: str
    action: str
    notify: str | None
    deadline: datetime
    decided_at: datetime
    updated_at: datetime
    latency_ms: int
    repeats: int
    first_event_id: int
    last_event_id: int
    event_ids: list[int] | None = None
    closed_at: datetime | None
    closed_by_event: int | None
    acked_at: datetime | None
    acked_until: datetime | None
    ack_note: str | None
    ack: str


class Decided(Result):
    """What one ``decide`` pass did: events decided, decisions opened / repeated / closed, and
    how many events are still pending (another pass takes them)."""

    decided: int
    opened: int
    repeated: int
    closed: int
    pending: int
    decisions: list[DecisionView]


class DecisionList(Result):
    """Decisions newest first."""

    decisions: list[DecisionView]


def _view(session: Session, row: dict[str, Any], now: datetime) -> DecisionView:
    from orgplane.respond.decisions import state_of

    fields = {k: row.get(k) for k in DecisionView.model_fields if k in row}
    return DecisionView(
        **fields,
        state=state_of(row, now),
        ack=session.command("decision", "ack", str(row["id"])),
    )


def decide_pending(session: Session, *, limit: int = 10_000) -> Decided:
    """Decide every pending event (up to ``limit``), each exactly once whatever other deciders
    run on the store; the decisions touched are returned, newest last."""
    from orgplane.respond import decisions as engine
    from orgplane.store.types import utcnow

    org, store = session.org(), session.store()
    outcomes: list[engine.Outcome] = []
    while len(outcomes) < limit:
        with store.write() as conn:
            batch = engine.decide_pending(conn, org, limit=min(engine.BATCH, limit - len(outcomes)))
        if not batch:
            break
        outcomes.extend(batch)
    now = utcnow()
    touched = sorted({o.decision_id for o in outcomes if o.decision_id is not None})
    with store.read() as conn:
        views = [_view(session, engine.get_decision(conn, i), now) for i in touched]
        pending = engine.undecided_count(conn)
    effects = [o.effect for o in outcomes]
    return Decided(
        decided=len(outcomes),
        opened=effects.count("opened"),
        repeated=effects.count("repeated"),
        closed=effects.count("closed"),
        pending=pending,
        decisions=views,
    )


def list_decisions(
    session: Session, *, include_closed: bool = False, limit: int = 100
) -> DecisionList:
    """Open decisions newest first (all of them with ``include_closed``), at most ``limit``."""
    from orgplane.respond.decisions import list_decisions as read
    from orgplane.store.types import utcnow

    now = utcnow()
    with session.store().read() as conn:
        rows = read(conn, include_closed=include_closed, limit=limit)
    return DecisionList(decisions=[_view(session, row, now) for row in rows])


def show_decision(session: Session, decision_id: int) -> DecisionView:
    """One decision with the ids of every event it consumed; NotFoundError if there is none."""
    from orgplane.respond.decisions import get_decision
    from orgplane.store.types import utcnow

    with session.store().read() as conn:
        row = get_decision(conn, decision_id)
    return _view(session, row, utcnow())


def ack_decision(session: Session, decision_id: int, note: str | None = None) -> DecisionView:
    """Acknowledge a decision: it is silenced until its tier's ``ack_timeout`` (default the
    tier's deadline) from now, then live again unless closed. NotFoundError if there is none;
    UsageError for a closed decision (nothing is left to acknowledge)."""
    from orgplane.errors import UsageError
    from orgplane.respond.decisions import acknowledge, get_decision
    from orgplane.store.types import utcnow

    org, store = session.org(), session.store()
    now = utcnow()
    with store.write() as conn:
        if get_decision(conn, decision_id)["status"] == "closed":
            raise UsageError(
                f"decision {decision_id} is closed (its subject recovered); "
                "acknowledge an open one from 'orgplane decision list'"
            )
        row = acknowledge(conn, org, decision_id, note, now=now)
    return _view(session, row, now)

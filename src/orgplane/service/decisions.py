"""Use cases of the decision engine: decide pending events (then follow up and send, for
``decide --once``), list / show / acknowledge decisions.

Each takes a :class:`Session` and returns a pydantic result; the CLI (and later the HTTP API and
MCP server) only render them.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from orgplane.service.models import Result
from orgplane.service.notifications import (
    Delivered,
    FollowedUp,
    NotificationView,
    deliver_due,
    follow_up,
    list_notifications,
)
from orgplane.service.session import Session

if TYPE_CHECKING:
    pass

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
    holder: str | None = None
    """The seat last told (None: nobody yet); ``level`` steps up the chart from the first."""
    level: int = 0
    notified_at: datetime | None = None
    next_notify_at: datetime | None = None
    """When a follow-up (a repeat, the next step up, the end of an acknowledgement) is due."""
    notifications: list[NotificationView] | None = None
    """Its notifications, newest first (``decision show`` only)."""


class Decided(Result):
    """What one ``decide`` pass did: events decided, decisions opened / repeated / closed, and
    how many events are still pending (another pass takes them)."""

    decided: int
    opened: int
    repeated: int
    closed: int
    pending: int
    decisions: list[DecisionView]
    followed_up: FollowedUp | None = None
    """The follow-ups taken after deciding (``decide --once``)."""
    nagged: int | None = None
    """Overdue follow-ups of learnings whose owners were told again (``decide --once``)."""
    delivered: Delivered | None = None
    """What was sent after deciding; None with ``--no-send``."""
    unsent: list[NotificationView] | None = None
    """With ``--no-send``: the messages queued and not sent (who would be told, and what)."""


class DecisionList(Result):
    """Decisions newest first."""

    decisions: list[DecisionView]


def _view(
    session: Session,
    row: dict[str, Any],
    now: datetime,
    notifications: list[NotificationView] | None = None,
) -> DecisionView:
    from orgplane.respond.decisions import state_of

    fields = {k: row.get(k) for k in DecisionView.model_fields if k in row}
    return DecisionView(
        **fields,
        state=state_of(row, now),
        ack=session.command("decision", "ack", str(row["id"])),
        notifications=notifications,
    )


def file_incidents(session: Session) -> int:
    """File every decided event into its incident (learn/filing.file_pending), a batch a
    transaction, after the deciding is committed; returns how many incidents were touched.
    Every decider runs it, so decisions are never delayed by filing."""
    from orgplane.learn.filing import file_pending

    touched = 0
    while True:
        with session.store().write() as conn:
            filed = file_pending(conn)
        if not filed:
            return touched
        touched += len(filed)


def decide_pending(session: Session, *, limit: int = 10_000) -> Decided:
    """Decide every pending event (up to ``limit``), each exactly once whatever other deciders
    run on the store; the decisions touched are returned, newest last."""
    from orgplane.respond import decisions as engine
    from orgplane.store.types import utcnow

    org, store = session.org(), session.store()
    outcomes: list[engine.Outcome] = []
    while len(outcomes) < limit:
        with store.write() as conn:
            batch = engine.decide_pending(
                conn,
                org,
                limit=min(engine.BATCH, limit - len(outcomes)),
                command=lambda i: session.command("decision", "ack", str(i)),
            )
        if not batch:
            break
        outcomes.extend(batch)
    file_incidents(session)
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


def sweep_runs(session: Session) -> int:
    """Record what no event announces: a ``crash`` for each run whose workers all died (every
    lease run out, records left), a ``recovered`` for each run that finished while a decision
    about it is open. Each is keyed, so any number of callers record it once; returns how many
    events are new."""
    from orgplane.respond.resume import record_recoveries
    from orgplane.runs.stalls import record_stalls
    from orgplane.store.types import utcnow

    org = session.org()
    with session.store().write() as conn:
        now = utcnow()
        return len(record_stalls(conn, now, org) + record_recoveries(conn, now))


def decide_once(session: Session, *, send: bool = True) -> Decided:
    """What ``decide --once`` does: sweep the runs (:func:`sweep_runs`), decide every pending
    event, take the follow-ups due, nag the owners of overdue follow-ups of learnings, then send what is queued (``send`` False leaves it queued
    and lists it as ``unsent``). Restarting dead runs (the ``resume`` action) is the daemon's:
    a cron pass leaves them to the next ``orgplane watch`` or to a person."""
    sweep_runs(session)
    decided = decide_pending(session)
    if sweep_runs(session):  # a run that finished answers a decision just opened about it
        again = decide_pending(session)
        touched = {d.id: d for d in [*decided.decisions, *again.decisions]}
        decided = Decided(
            decided=decided.decided + again.decided,
            opened=decided.opened + again.opened,
            repeated=decided.repeated + again.repeated,
            closed=decided.closed + again.closed,
            pending=again.pending,
            decisions=[touched[i] for i in sorted(touched)],
        )
    from orgplane.service.incidents import nag_follow_ups

    followed = follow_up(session)
    nagged = nag_follow_ups(session).nagged
    if send:
        return decided.model_copy(
            update={"followed_up": followed, "nagged": nagged, "delivered": deliver_due(session)}
        )
    unsent = list_notifications(session, unsent=True).notifications
    return decided.model_copy(update={"followed_up": followed, "nagged": nagged, "unsent": unsent})


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
    told = list_notifications(session, decision_id=decision_id, limit=1000).notifications
    return _view(session, row, utcnow(), told)


def ack_decision(
    session: Session, decision_id: int, note: str | None = None, *, actor: str | None = None
) -> DecisionView:
    """Acknowledge a decision: it is silenced until its tier's ``ack_timeout`` (default the
    tier's deadline) from now, then live again unless closed. NotFoundError if there is none;
    UsageError for a closed decision (nothing is left to acknowledge) or a note holding a NUL
    character; PermissionDenied when
    ``actor`` is an agent seat (acknowledging takes a person)."""
    from orgplane.errors import UsageError
    from orgplane.respond.decisions import acknowledge, get_decision
    from orgplane.service.permissions import require_person
    from orgplane.store.types import utcnow

    org, store = session.org(), session.store()
    require_person(org, actor, f"acknowledging decision {decision_id}")
    # PostgreSQL text cannot hold a NUL: that is bad input, not a fault of the store.
    if note is not None and "\x00" in note:
        raise UsageError("the note contains a NUL character; remove it and acknowledge again")
    now = utcnow()
    with store.write() as conn:
        if get_decision(conn, decision_id)["status"] == "closed":
            raise UsageError(
                f"decision {decision_id} is closed (its subject recovered); "
                "acknowledge an open one from 'orgplane decision list'"
            )
        row = acknowledge(conn, org, decision_id, note, now=now)
    return _view(session, row, now)

"""Deciding failure events: one stored decision per open signature (subject and kind).

Every event not yet decided is claimed by inserting its ``decision_events`` row (its primary key
is the compare-and-set: of two deciders on one store, the second finds the row and moves on),
and in the same transaction the decision is stored: a new one, or the open decision of its
signature updated (a repeat). A ``recovered`` event closes the open decisions of its subject.
An escalation that opens queues its first notification in the same transaction (the outbox,
respond/outbox.py); a repeat queues nothing (the open one covers it), and a recovery cancels
what its decisions had not sent yet.

A batch is decided in a few statements, storing what deciding its events one by one would
(tests/respond/test_decide_batch.py): the claims in one insert, the decisions of the events
between two recoveries in one upsert (a row per signature, in signature order so concurrent
deciders lock open decisions in one order: the ids of decisions opened together follow their
signatures, not their events), the messages in one insert, the links in one update. Every
event of a batch has the batch's ``decided_at``, taken before the claim.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Connection,
    Executable,
    Integer,
    and_,
    bindparam,
    exists,
    func,
    select,
    update,
)

from orgplane.errors import NotFoundError
from orgplane.org.models import Org
from orgplane.respond.bulk import execute_rows, unnest
from orgplane.respond.followups import AckCommand, default_command, opening_state, queue_opened
from orgplane.respond.outbox import cancel_for
from orgplane.respond.recipients import who_is_told
from orgplane.respond.tiers import EventFacts, choose_tier, failing_seat
from orgplane.store.tables import decision_events, decisions, events, runs
from orgplane.store.types import utcnow
from orgplane.store.upsert import dialect_insert

UNDECLARED_ACTION = "escalate"
"""What happens to an event no tier applies to: a person hears of it now (the response was not
written down, so nobody may assume it will wait)."""

UNDECLARED_RULE = "none declared: add 'urgency: <tier>' to the process, output, metric or seat"

BATCH = 500
"""Events decided per transaction: large enough for a burst, small enough to keep locks short."""


@dataclass(frozen=True)
class Outcome:
    """What deciding one event did: ``opened`` a decision, ``repeated`` an open one, ``closed``
    open ones (a recovery), or nothing (``decision_id`` None: a recovery with nothing open)."""

    event_id: int
    effect: str
    decision_id: int | None
    latency_ms: int


def decide_pending(
    conn: Connection,
    org: Org,
    *,
    limit: int = BATCH,
    now: datetime | None = None,
    command: AckCommand = default_command,
) -> list[Outcome]:
    """Decide up to ``limit`` undecided events, oldest first, inside the caller's transaction.

    An event another decider claimed first is skipped, so each event is decided exactly once
    however many deciders run; call it in a write transaction and commit to publish the result.
    Each escalation opened queues its notification, whose text gives ``command(id)`` to act.
    The batch costs a few statements, not a few per event: one claim, one upsert per run of
    events between recoveries, one outbox insert and one link update.
    """
    rows = conn.execute(_PENDING, {"limit": limit}).all()
    if not rows:
        return []
    pending = [dict(row._mapping) for row in rows]
    decided_at = now or utcnow()
    latency = {e["id"]: _ms(decided_at - e["recorded_at"]) for e in pending}
    claims = [
        {"event_id": e["id"], "decided_at": decided_at, "latency_ms": latency[e["id"]]}
        for e in pending
    ]
    won = set(
        execute_rows(conn, _statements(conn).claim, claims).scalars()
    )  # the rest another decider got first
    outcomes: list[Outcome] = []
    opened: list[tuple[dict[str, Any], str | None]] = []
    run: list[dict[str, Any]] = []
    for event in (e for e in pending if e["id"] in won):
        if event["kind"] != "recovered":
            run.append(event)
            continue
        # What a recovery closes and cancels must be stored first: the events before it
        # decided and their messages queued, then it.
        outcomes += _decide(conn, org, run, decided_at, latency, opened)
        queue_opened(conn, opened, decided_at, command)
        run, opened = [], []
        outcomes.append(_close(conn, event, decided_at, latency[event["id"]]))
    outcomes += _decide(conn, org, run, decided_at, latency, opened)
    queue_opened(conn, opened, decided_at, command)
    links = [{"event": o.event_id, "decision": o.decision_id} for o in outcomes if o.decision_id]
    if links:  # one executemany for the batch: a round trip per event is what a burst costs
        execute_rows(conn, _statements(conn).link, links)
    return outcomes


_PENDING = (
    select(events, runs.c.process_id)
    .select_from(events.outerjoin(runs, runs.c.id == events.c.run_id))
    .where(~exists().where(decision_events.c.event_id == events.c.id))
    .order_by(events.c.id)
    .limit(bindparam("limit"))
)

_CLOSE = (
    update(decisions)
    .where(
        and_(
            decisions.c.subject_kind == bindparam("of_kind"),
            decisions.c.subject_id == bindparam("of_id"),
            decisions.c.status == "open",
        )
    )
    .values(
        status="closed",
        open_signature=None,
        closed_at=bindparam("at"),
        closed_by_event=bindparam("event"),
        updated_at=bindparam("at"),
        next_notify_at=None,
    )
    .returning(decisions.c.id, decisions.c.first_event_id)
)


CLAIMED = ("event_id", "decided_at", "latency_ms")
"""The columns of a claim (``decision_events`` before its link to the decision)."""

OPENED = (
    "signature",
    "open_signature",
    "status",
    "kind",
    "subject_kind",
    "subject_id",
    "seat_id",
    "first_event_id",
    "last_event_id",
    "repeats",
    "tier",
    "rule",
    "action",
    "notify",
    "deadline",
    "decided_at",
    "updated_at",
    "latency_ms",
    "holder",
    "level",
    "notified_at",
    "next_notify_at",
    "followups",
)
"""The columns of a decision as it opens."""


@dataclass(frozen=True)
class _Statements:
    claim: Executable
    upsert: Executable
    link: Executable


_BUILT: dict[str, _Statements] = {}


def _statements(conn: Connection) -> _Statements:
    """The claim, the upsert and the link, built once per dialect and run for a whole batch
    by ``execute_rows`` (respond/bulk.py): building a statement from literal values costs
    SQLAlchemy more than running it, and a statement per row costs a round trip each."""
    built = _BUILT.get(conn.dialect.name)
    if built is not None:
        return built
    claim = dialect_insert(conn, decision_events)
    insert = dialect_insert(conn, decisions)
    link = update(decision_events)
    if conn.dialect.name == "postgresql":
        claim = claim.from_select(CLAIMED, unnest({c: decision_events.c[c].type for c in CLAIMED}))
        insert = insert.from_select(OPENED, unnest({c: decisions.c[c].type for c in OPENED}))
        source = unnest({"event": Integer(), "decision": Integer()}).subquery()
        link = link.where(decision_events.c.event_id == source.c.event)
        link = link.values(decision_id=source.c.decision)
    else:
        link = link.where(decision_events.c.event_id == bindparam("event"))
        link = link.values(decision_id=bindparam("decision"))
    upsert = insert.on_conflict_do_update(
        index_elements=["open_signature"],
        set_={
            "last_event_id": insert.excluded.last_event_id,
            # a row of k events of one signature carries k - 1 repeats: the open one counts k
            "repeats": decisions.c.repeats + insert.excluded.repeats + 1,
            "updated_at": insert.excluded.updated_at,
        },
    ).returning(decisions.c.id, decisions.c.open_signature, decisions.c.first_event_id)
    built = _Statements(
        claim=claim.on_conflict_do_nothing(index_elements=["event_id"]).returning(
            decision_events.c.event_id
        ),
        upsert=upsert,
        link=link,
    )
    _BUILT[conn.dialect.name] = built
    return built


def _decide(
    conn: Connection,
    org: Org,
    batch: list[dict[str, Any]],
    at: datetime,
    latency: dict[int, int],
    opened: list[tuple[dict[str, Any], str | None]],
) -> list[Outcome]:
    """Store the decisions of ``batch`` (no recovery among them) in one upsert: a row per
    signature, its first event's values, counting the others as repeats. A row whose stored
    ``first_event_id`` is its first event's was inserted (opened); else it found its signature
    open and counted repeats. Escalations opened are added to ``opened`` (row, process)."""
    if not batch:
        return []
    groups: dict[str, list[dict[str, Any]]] = {}
    for event in batch:
        groups.setdefault(_signature(event), []).append(event)
    values = {}
    for signature, group in groups.items():
        first = group[0]
        row = _opening(org, first, signature, at, latency[first["id"]])
        values[signature] = {**row, "repeats": len(group) - 1, "last_event_id": group[-1]["id"]}
    # Rows sorted by signature: concurrent deciders lock open decisions in one order.
    rows = [values[s] for s in sorted(values)]
    stored = {
        found.open_signature: (int(found.id), int(found.first_event_id))
        for found in execute_rows(conn, _statements(conn).upsert, rows)
    }
    effects: dict[int, Outcome] = {}
    for signature, group in groups.items():
        decision_id, first_event = stored[signature]
        inserted = first_event == group[0]["id"]
        if inserted and values[signature]["action"] == "escalate":
            # its message is the one its first event calls for (seen once), as event by event
            message = {**values[signature], "id": decision_id, "repeats": 0}
            opened.append((message, group[0]["process_id"]))
        for n, event in enumerate(group):
            effect = "opened" if inserted and n == 0 else "repeated"
            effects[event["id"]] = Outcome(event["id"], effect, decision_id, latency[event["id"]])
    return [effects[e["id"]] for e in batch]


def _signature(event: dict[str, Any]) -> str:
    return f"{event['subject_kind']}:{event['subject_id']}:{event['kind']}"


def _opening(
    org: Org, event: dict[str, Any], signature: str, at: datetime, latency: int
) -> dict[str, Any]:
    """The values of the decision ``event`` opens (a repeat takes only its last event)."""
    facts = EventFacts(
        kind=event["kind"],
        subject_kind=event["subject_kind"],
        subject_id=event["subject_id"],
        seat_id=event["seat_id"],
        process_id=event["process_id"],
        context=event["details"] or {},
    )
    choice = choose_tier(org, facts)
    tier = org.urgency.get(choice.tier) if choice else None
    seat_id = failing_seat(org, facts)
    action = tier.action if tier else UNDECLARED_ACTION
    notify = who_is_told(org, tier.notify if tier else None, seat_id)
    deadline = event["occurred_at"] + (tier.deadline if tier else timedelta(0))
    return {
        "signature": signature,
        "open_signature": signature,
        "status": "open",
        "kind": event["kind"],
        "subject_kind": event["subject_kind"],
        "subject_id": event["subject_id"],
        "seat_id": seat_id,
        "first_event_id": event["id"],
        "last_event_id": event["id"],
        "repeats": 0,
        "tier": choice.tier if choice else None,
        "rule": choice.rule if choice else UNDECLARED_RULE,
        "action": action,
        "notify": notify,
        "deadline": deadline,
        "decided_at": at,
        "updated_at": at,
        "latency_ms": latency,
        # Only an insert takes these: a repeat keeps the open decision's follow-up state.
        **opening_state(org, action, tier, notify, deadline, at),
    }


def _close(conn: Connection, event: dict[str, Any], at: datetime, latency: int) -> Outcome:
    params = {
        "of_kind": event["subject_kind"],
        "of_id": event["subject_id"],
        "at": at,
        "event": event["id"],
    }
    # The first opened (by its first event: ids of one batch follow signatures) stands for all.
    closed = [int(r.id) for r in sorted(conn.execute(_CLOSE, params), key=lambda r: r[1])]
    cancel_for(conn, closed, at)
    return Outcome(
        event["id"], "closed" if closed else "nothing", closed[0] if closed else None, latency
    )


def acknowledge(
    conn: Connection, org: Org, decision_id: int, note: str | None, *, now: datetime | None = None
) -> dict[str, Any]:
    """Acknowledge an open decision until its tier's ``ack_timeout`` (default its deadline)
    from ``now``; NotFoundError when no decision has this id. Returns the updated row.

    Follow-ups of a decision someone was told of (or a ``wait`` yet to be) pause until then:
    at ``acked_until`` it is looked at again and, still open, told once more."""
    row = get_decision(conn, decision_id)
    at = now or utcnow()
    tier = org.urgency.get(row["tier"]) if row["tier"] else None
    until = at + tier.silence if tier else max(at, row["deadline"])
    pauses = row["holder"] is not None or row["action"] == "wait"
    conn.execute(
        update(decisions)
        .where(decisions.c.id == decision_id)
        .values(
            acked_at=at,
            acked_until=until,
            ack_note=note,
            updated_at=at,
            next_notify_at=until if pauses else row["next_notify_at"],
            followups=decisions.c.followups + 1,  # a follow-up read before the ack is stale
        )
    )
    return get_decision(conn, decision_id)


def get_decision(conn: Connection, decision_id: int) -> dict[str, Any]:
    """The stored decision ``decision_id`` with the ids of its events; NotFoundError if none."""
    row = conn.execute(select(decisions).where(decisions.c.id == decision_id)).first()
    if row is None:
        raise NotFoundError(
            f"decision {decision_id}: no such decision; list them with 'orgplane decision list'"
        )
    found = dict(row._mapping)
    ids = select(decision_events.c.event_id).where(decision_events.c.decision_id == decision_id)
    found["event_ids"] = sorted(
        int(i) for i in conn.execute(ids.order_by(decision_events.c.event_id)).scalars()
    )
    return found


def list_decisions(
    conn: Connection, *, include_closed: bool = False, limit: int = 100
) -> list[dict[str, Any]]:
    """Decisions newest first: the open ones, or all with ``include_closed``."""
    query = select(decisions).order_by(decisions.c.id.desc()).limit(limit)
    if not include_closed:
        query = query.where(decisions.c.status == "open")
    return [dict(row._mapping) for row in conn.execute(query)]


def state_of(row: dict[str, Any], now: datetime) -> str:
    """``closed``, ``acknowledged`` (silenced until ``acked_until``) or ``live``."""
    if row["status"] == "closed":
        return "closed"
    if row["acked_until"] is not None and row["acked_until"] > now:
        return "acknowledged"
    return "live"


def undecided_count(conn: Connection) -> int:
    """How many events no decider has claimed yet."""
    claimed = exists().where(decision_events.c.event_id == events.c.id)
    return int(conn.execute(select(func.count()).select_from(events).where(~claimed)).scalar_one())


def _ms(delta: timedelta) -> int:
    return max(0, round(delta.total_seconds() * 1000))

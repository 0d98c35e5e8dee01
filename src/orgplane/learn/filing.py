"""Filing decided failure events into incidents by signature (seat, subject, kind).

Events are filed right after they are decided, in event order (:func:`file_pending`, which every
decider runs once its batches are committed): a mark says how far filing got, and it stops at
the first event not decided yet, so a decider that died between deciding and filing leaves
nothing unfiled for long, and deciding a burst is not slowed by filing it. Per signature there
is at most one open incident; a further event of that signature joins it (a repeat), and a
recovery of its subject marks it recovered, which does not close it: only a learning closes an
incident (the close gate, :mod:`orgplane.learn.learnings`). An event whose signature belongs to
a *closed* incident reopens that incident and marks its learning as not having held.

A batch costs a few statements, not a few per event: one select of the incidents its
signatures already have, one upsert opening the new ones, one update per incident that was
already there, one statement linking every event, one insert of the timeline steps.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Executable, Integer, and_, bindparam, insert, select, update

from orgplane.learn.incidents import decided_step, detected_step
from orgplane.respond.bulk import execute_rows, unnest
from orgplane.store.tables import (
    decision_events,
    decisions,
    events,
    incident_filing,
    incident_steps,
    incidents,
)
from orgplane.store.types import utcnow
from orgplane.store.upsert import dialect_insert

__all__ = ["Filed", "file_decided", "file_pending", "signature_of"]


@dataclass(frozen=True)
class Filed:
    """What filing one batch did to one incident: ``opened``, ``joined`` or ``reopened``
    (``recovered`` for a recovery that touched it)."""

    incident_id: int
    effect: str
    event_ids: tuple[int, ...]


def signature_of(seat_id: str | None, subject_kind: str, subject_id: str, kind: str) -> str:
    """The key events of one incident share: the failing seat, the subject and the kind."""
    return f"{seat_id or '-'}|{subject_kind}:{subject_id}|{kind}"


_BATCH_EVENTS = (
    select(
        events.c.id,
        events.c.kind,
        events.c.occurred_at,
        events.c.recorded_at,
        events.c.seat_id.label("event_seat"),
        events.c.subject_kind,
        events.c.subject_id,
        events.c.run_id,
        events.c.message,
        decision_events.c.decided_at,
        decisions.c.id.label("decision_id"),
        decisions.c.seat_id.label("decision_seat"),
        decisions.c.tier,
        decisions.c.action,
        decisions.c.notify,
        decisions.c.rule,
    )
    .select_from(
        events.join(decision_events, decision_events.c.event_id == events.c.id).outerjoin(
            decisions, decisions.c.id == decision_events.c.decision_id
        )
    )
    .where(events.c.id.in_(bindparam("ids", expanding=True)))
    .where(events.c.incident_id.is_(None))
    .order_by(events.c.id)
)


def file_decided(
    conn: Connection, event_ids: Sequence[int], *, now: datetime | None = None
) -> list[Filed]:
    """File the decided events ``event_ids`` into incidents, inside the caller's transaction
    (:func:`file_pending` chooses them; a drill's scratch store calls it directly). An event
    already filed is left alone, so filing twice is a no-op. Returns what happened to each incident touched, in event order."""
    if not event_ids:
        return []
    at = now or utcnow()
    rows = [dict(r._mapping) for r in conn.execute(_BATCH_EVENTS, {"ids": list(event_ids)})]
    filed: list[Filed] = []
    failures: list[dict[str, Any]] = []
    for row in rows:
        if row["kind"] != "recovered":
            failures.append(row)
            continue
        # A recovery applies to what was filed before it: file the failures before it first.
        filed += _file_failures(conn, failures, at)
        failures = []
        filed += _recover(conn, row, at)
    filed += _file_failures(conn, failures, at)
    return filed


BATCH = 500
"""Events filed per transaction."""

_SLOT = "events"


def file_pending(
    conn: Connection, *, limit: int = BATCH, now: datetime | None = None
) -> list[Filed]:
    """File the next decided events after the filing mark, in event order, inside the caller's
    write transaction, and move the mark past them. Stops at the first event not decided yet
    (its decider has not committed), so incidents see events in the order they happened; the
    mark's row is locked for the transaction on PostgreSQL, so two daemons file each event once.
    Returns what happened to each incident touched; empty when nothing is left to file."""
    conn.execute(
        dialect_insert(conn, incident_filing)
        .values(slot=_SLOT, through=0)
        .on_conflict_do_nothing(index_elements=["slot"])
    )
    through = conn.execute(
        select(incident_filing.c.through).where(incident_filing.c.slot == _SLOT).with_for_update()
    ).scalar_one()
    rows = conn.execute(
        select(events.c.id, decision_events.c.event_id.label("decided"))
        .select_from(events.outerjoin(decision_events, decision_events.c.event_id == events.c.id))
        .where(events.c.id > through)
        .order_by(events.c.id)
        .limit(limit)
    ).all()
    ready: list[int] = []
    for row in rows:
        if row.decided is None:
            break
        ready.append(int(row.id))
    if not ready:
        return []
    filed = file_decided(conn, ready, now=now)
    conn.execute(
        update(incident_filing).where(incident_filing.c.slot == _SLOT).values(through=ready[-1])
    )
    return filed


def _seat(row: dict[str, Any]) -> str | None:
    seat: str | None = row["decision_seat"] or row["event_seat"]
    return seat


def _file_failures(conn: Connection, rows: list[dict[str, Any]], at: datetime) -> list[Filed]:
    if not rows:
        return []
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        key = signature_of(_seat(row), row["subject_kind"], row["subject_id"], row["kind"])
        groups.setdefault(key, []).append(row)
    latest: dict[str, dict[str, Any]] = {}
    keys = list(groups)
    for chunk in range(0, len(keys), 500):  # an IN list of a burst's signatures, in slices
        found = conn.execute(
            select(incidents)
            .where(incidents.c.signature.in_(keys[chunk : chunk + 500]))
            .order_by(incidents.c.id.desc())
        )
        for incident in found:  # newest first: the open one if any, else the last closed
            current = latest.get(incident.signature)
            if current is None or (current["status"] != "open" and incident.status == "open"):
                latest[incident.signature] = dict(incident._mapping)
    steps: list[dict[str, Any]] = []
    links: list[dict[str, int]] = []
    effects: dict[str, tuple[int, str]] = {}
    fresh = [key for key in keys if key not in latest]
    for key, (incident_id, effect) in _open_many(conn, fresh, groups, at).items():
        effects[key] = (incident_id, effect)
    for key in keys:
        existing = latest.get(key)
        if existing is None:
            continue
        if existing["status"] == "open":
            _join(conn, existing, groups[key], at, steps)
            effects[key] = (existing["id"], "joined")
        else:
            _reopen(conn, existing, groups[key], at, steps)
            effects[key] = (existing["id"], "reopened")
    filed: list[Filed] = []
    for key in keys:
        incident_id, effect = effects[key]
        ids = tuple(r["id"] for r in groups[key])
        links += [{"event": event_id, "incident": incident_id} for event_id in ids]
        filed.append(Filed(incident_id, effect, ids))
    execute_rows(conn, _link(conn), links)
    if steps:
        conn.execute(insert(incident_steps), steps)
    return filed


def _open_many(
    conn: Connection,
    keys: list[str],
    groups: dict[str, list[dict[str, Any]]],
    at: datetime,
) -> dict[str, tuple[int, str]]:
    """Open an incident for each signature in ``keys``, in one upsert: another decider that
    opened one of them meanwhile (PostgreSQL) makes the row a join instead of a conflict."""
    if not keys:
        return {}
    values = [_opening(key, groups[key], at) for key in keys]
    statement = _opening_statement(conn)
    stored = {
        row.open_signature: (int(row.id), int(row.first_event_id))
        for row in execute_rows(conn, statement, values)
    }
    effects: dict[str, tuple[int, str]] = {}
    for key in keys:
        incident_id, first_event = stored[key]
        first = groups[key][0]
        if first_event == first["id"]:
            # Its detected and decided steps are the row's own columns (see steps_of): a
            # burst of new incidents stores no timeline rows.
            effects[key] = (incident_id, "opened")
        else:
            effects[key] = (incident_id, "joined")
    return effects


OPENED = (
    "signature",
    "open_signature",
    "status",
    "kind",
    "subject_kind",
    "subject_id",
    "seat_id",
    "run_id",
    "tier",
    "action",
    "notify",
    "first_event_id",
    "last_event_id",
    "events",
    "occurred_at",
    "detected_at",
    "decided_at",
    "updated_at",
)
"""The columns an opening incident sets (:func:`_opening` gives them in this order)."""

_OPENINGS: dict[str, Executable] = {}


def _opening_statement(conn: Connection) -> Executable:
    """The upsert opening a batch's incidents, built once per dialect: an ``unnest`` source on
    PostgreSQL (a multi-row VALUES of a burst costs psycopg more to parse than to store)."""
    built = _OPENINGS.get(conn.dialect.name)
    if built is None:
        opening = dialect_insert(conn, incidents)
        if conn.dialect.name == "postgresql":
            opening = opening.from_select(OPENED, unnest({c: incidents.c[c].type for c in OPENED}))
        built = _OPENINGS[conn.dialect.name] = opening.on_conflict_do_update(
            index_elements=["open_signature"],
            set_={
                "events": incidents.c.events + opening.excluded.events,
                "last_event_id": opening.excluded.last_event_id,
                "updated_at": opening.excluded.updated_at,
            },
        ).returning(incidents.c.id, incidents.c.open_signature, incidents.c.first_event_id)
    return built


_LINKS: dict[str, Executable] = {}


def _link(conn: Connection) -> Executable:
    """Set the incident of many events in one statement (respond/bulk.py's way per dialect)."""
    built = _LINKS.get(conn.dialect.name)
    if built is None:
        link = update(events)
        if conn.dialect.name == "postgresql":
            source = unnest({"event": Integer(), "incident": Integer()}).subquery()
            link = link.where(events.c.id == source.c.event).values(incident_id=source.c.incident)
        else:
            link = link.where(events.c.id == bindparam("event"))
            link = link.values(incident_id=bindparam("incident"))
        built = _LINKS[conn.dialect.name] = link
    return built


def _opening(key: str, group: list[dict[str, Any]], at: datetime) -> dict[str, Any]:
    first, last = group[0], group[-1]
    return {
        "signature": key,
        "open_signature": key,
        "status": "open",
        "kind": first["kind"],
        "subject_kind": first["subject_kind"],
        "subject_id": first["subject_id"],
        "seat_id": _seat(first),
        "run_id": first["run_id"],
        "tier": first["tier"],
        "action": first["action"],
        "notify": first["notify"],
        "first_event_id": first["id"],
        "last_event_id": last["id"],
        "events": len(group),
        "occurred_at": first["occurred_at"],
        "detected_at": first["recorded_at"],
        "decided_at": first["decided_at"],
        "updated_at": at,
    }


def _join(
    conn: Connection,
    incident: dict[str, Any],
    group: list[dict[str, Any]],
    at: datetime,
    steps: list[dict[str, Any]],
) -> None:
    values: dict[str, Any] = {
        "events": incidents.c.events + len(group),
        "last_event_id": group[-1]["id"],
        "updated_at": at,
    }
    if incident["recovered_at"] is not None:
        # It came back after recovering: the incident is failing again.
        values["recovered_at"] = None
        steps.append({**detected_step(group[0], "repeated"), "incident_id": incident["id"]})
    if incident["run_id"] is None and group[0]["run_id"] is not None:
        values["run_id"] = group[0]["run_id"]
    conn.execute(update(incidents).where(incidents.c.id == incident["id"]).values(**values))


def _reopen(
    conn: Connection,
    incident: dict[str, Any],
    group: list[dict[str, Any]],
    at: datetime,
    steps: list[dict[str, Any]],
) -> None:
    first = group[0]
    conn.execute(
        update(incidents)
        .where(incidents.c.id == incident["id"])
        .values(
            status="open",
            open_signature=incident["signature"],
            events=incidents.c.events + len(group),
            last_event_id=group[-1]["id"],
            run_id=first["run_id"] or incident["run_id"],
            recovered_at=None,
            learning_held=False,
            reopened=incidents.c.reopened + 1,
            updated_at=at,
        )
    )
    reopened = detected_step(first, "reopened")
    reopened["detail"]["learning"] = incident["learning"]
    steps += [
        {**reopened, "incident_id": incident["id"]},
        {**decided_step(first), "incident_id": incident["id"]},
    ]


def _recover(conn: Connection, row: dict[str, Any], at: datetime) -> list[Filed]:
    """Mark the open, unrecovered incidents of the recovered subject recovered."""
    touched = conn.execute(
        update(incidents)
        .where(
            and_(
                incidents.c.subject_kind == row["subject_kind"],
                incidents.c.subject_id == row["subject_id"],
                incidents.c.status == "open",
                incidents.c.recovered_at.is_(None),
            )
        )
        .values(recovered_at=row["occurred_at"], updated_at=at)
        .returning(incidents.c.id)
    ).scalars()
    ids = sorted(int(i) for i in touched)
    if not ids:
        return []
    conn.execute(update(events).where(events.c.id == row["id"]).values(incident_id=ids[0]))
    conn.execute(
        insert(incident_steps),
        [
            {
                "incident_id": incident_id,
                "step": "recovered",
                "at": row["occurred_at"],
                "actor": None,
                "event_id": row["id"],
                "decision_id": None,
                "detail": {"message": row["message"]},
            }
            for incident_id in ids
        ],
    )
    return [Filed(i, "recovered", (row["id"],)) for i in ids]

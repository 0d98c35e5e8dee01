"""Recording failure events: the one way any concern tells the rest of orgplane that something
failed (or recovered). Later capabilities (decisions, incidents, the audit) read these rows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection, select

from orgplane.respond.kinds import EventKind, SubjectKind
from orgplane.store.tables import events
from orgplane.store.types import utcnow
from orgplane.store.upsert import dialect_insert

if TYPE_CHECKING:
    from sqlalchemy.dialects import postgresql, sqlite

__all__ = [
    "EventKind",
    "FailureEvent",
    "SubjectKind",
    "recent_events",
    "record_event",
    "record_events",
]


class FailureEvent(BaseModel):
    """A failure seen by orgplane. ``occurred_at`` is when it happened (a stale file became stale
    when its max_age ran out), not when it was noticed."""

    model_config = ConfigDict(frozen=True)

    kind: EventKind
    occurred_at: datetime
    subject_kind: SubjectKind
    subject_id: str
    message: str
    seat_id: str | None = None
    run_id: str | None = None
    record_key: str | None = None
    stage: str | None = None
    visible: bool = False
    details: dict[str, Any] = Field(default_factory=dict)
    dedupe_key: str | None = None


def record_event(conn: Connection, event: FailureEvent) -> int | None:
    """Append ``event``; return its id, or None when an event with its dedupe key already exists.

    Runs inside the caller's transaction, so an event is stored together with the state change
    that caused it or not at all.
    """
    values = {**event.model_dump(), "recorded_at": utcnow()}
    statement = _insert(conn).values(**values)
    if event.dedupe_key is not None:
        statement = statement.on_conflict_do_nothing(index_elements=["dedupe_key"])
    result = conn.execute(statement.returning(events.c.id))
    row = result.first()
    return int(row[0]) if row else None


def record_events(conn: Connection, batch: Sequence[FailureEvent]) -> list[int | None]:
    """Append many events at once, as :func:`record_event` does one by one: same rows, same
    dedupe rule, ids in order (None where the dedupe key already existed). Events with a
    dedupe key cost a few statements in all, however many there are; call it under a lock
    (or a transaction that serialises writers) when several processes record the same keys."""
    ids: dict[int, int | None] = {}
    keyed = [(i, e) for i, e in enumerate(batch) if e.dedupe_key is not None]
    for i, event in enumerate(batch):
        if event.dedupe_key is None:
            ids[i] = record_event(conn, event)
    for start in range(0, len(keyed), 500):
        chunk = keyed[start : start + 500]
        keys = [e.dedupe_key for _, e in chunk]
        existing = set(
            conn.execute(select(events.c.dedupe_key).where(events.c.dedupe_key.in_(keys))).scalars()
        )
        fresh = [(i, e) for i, e in chunk if e.dedupe_key not in existing]
        now = utcnow()
        if fresh:
            statement = _insert(conn).on_conflict_do_nothing(index_elements=["dedupe_key"])
            conn.execute(statement, [{**e.model_dump(), "recorded_at": now} for _, e in fresh])
        query = select(events.c.dedupe_key, events.c.id).where(events.c.dedupe_key.in_(keys))
        stored = {key: int(ident) for key, ident in conn.execute(query).all()}
        for i, event in chunk:
            fresh_key = event.dedupe_key not in existing
            existing.add(event.dedupe_key)  # a repeat within the batch is a repeat too
            ids[i] = stored.get(event.dedupe_key) if fresh_key else None
    return [ids[i] for i in range(len(batch))]


def _insert(conn: Connection) -> postgresql.Insert | sqlite.Insert:
    """An INSERT into events in the connection's dialect (for ON CONFLICT DO NOTHING)."""
    return dialect_insert(conn, events)


def recent_events(
    conn: Connection, *, since: datetime | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    """Events newest first, optionally only those that occurred since ``since``."""
    query = select(events).order_by(events.c.occurred_at.desc(), events.c.id.desc()).limit(limit)
    if since is not None:
        query = query.where(events.c.occurred_at >= since)
    return [dict(row._mapping) for row in conn.execute(query)]

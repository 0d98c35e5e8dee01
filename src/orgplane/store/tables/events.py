"""Failure events: every failure orgplane sees, visible or silent, as an append-only row.

The decision engine, incidents and the weekly audit (later capabilities) read from here;
``dedupe_key`` makes recording the same transition twice (two watchers, a retried write) a no-op.
The kinds of event are listed once, as ``EventKind`` in :mod:`orgplane.respond.events`.
"""

from sqlalchemy import JSON, Boolean, Column, Index, Integer, String, Table, Text

from orgplane.store.tables.base import metadata
from orgplane.store.types import UTCDateTime

events = Table(
    "events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),
    Column("occurred_at", UTCDateTime, nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    Column("seat_id", String(100)),
    Column("subject_kind", String(16), nullable=False),
    Column("subject_id", String(200), nullable=False),
    Column("run_id", String(200)),
    Column("record_key", Text),
    Column("stage", String(100)),
    Column("visible", Boolean, nullable=False),
    Column("message", Text, nullable=False),
    Column("details", JSON, nullable=False),
    Column("dedupe_key", String(300), unique=True),
    Column("incident_id", Integer),
    Index("ix_events_subject", "subject_kind", "subject_id", "occurred_at"),
    Index("ix_events_occurred_at", "occurred_at"),
)

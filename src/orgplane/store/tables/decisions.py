"""Decisions: what orgplane decided about failure events, one row per open signature.

``decision_events`` is the claim: an event is decided by whoever inserts its row first (its
primary key is the compare-and-set), in the same transaction as the decision it feeds.
``open_signature`` equals ``signature`` while a decision is open and is NULL once closed, so
its unique index lets one open decision per signature exist, and repeats upsert into it.
"""

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table, Text

from orgplane.store.tables.base import metadata
from orgplane.store.types import UTCDateTime

__all__ = ["decision_events", "decisions"]

decisions = Table(
    "decisions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("signature", String(300), nullable=False),
    Column("open_signature", String(300), unique=True),
    Column("status", String(16), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("subject_kind", String(16), nullable=False),
    Column("subject_id", String(200), nullable=False),
    Column("seat_id", String(100)),
    Column("first_event_id", Integer, ForeignKey("events.id"), nullable=False),
    Column("last_event_id", Integer, ForeignKey("events.id"), nullable=False),
    Column("repeats", Integer, nullable=False),
    Column("tier", String(100)),
    Column("rule", Text, nullable=False),
    Column("action", String(16), nullable=False),
    Column("notify", String(100)),
    Column("deadline", UTCDateTime, nullable=False),
    Column("decided_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("latency_ms", Integer, nullable=False),
    Column("closed_at", UTCDateTime),
    Column("closed_by_event", Integer, ForeignKey("events.id")),
    Column("acked_at", UTCDateTime),
    Column("acked_until", UTCDateTime),
    Column("ack_note", Text),
    # Follow-ups (respond/followups.py): who holds the decision now, how far up the chart it
    # went, when it was last told and when the next follow-up is due; ``followups`` counts the
    # steps taken and is the compare-and-set of each step.
    Column("holder", String(100)),
    Column("level", Integer, nullable=False, server_default="0"),
    Column("notified_at", UTCDateTime),
    Column("next_notify_at", UTCDateTime),
    Column("followups", Integer, nullable=False, server_default="0"),
    Index("ix_decisions_subject", "subject_kind", "subject_id", "status"),
    Index("ix_decisions_next_notify", "next_notify_at"),
)

decision_events = Table(
    "decision_events",
    metadata,
    Column("event_id", Integer, ForeignKey("events.id"), primary_key=True),
    Column("decision_id", Integer, ForeignKey("decisions.id")),
    Column("decided_at", UTCDateTime, nullable=False),
    Column("latency_ms", Integer, nullable=False),
)

"""Notifications: the outbox of messages decisions call for, and every send's per-target result.

A ``notifications`` row is inserted in the same transaction as the decision step that calls for
it (``key`` is unique: one row per decision and step, however many deciders race), then claimed
by one sender (compare-and-set on ``status`` / ``claim_until``) and sent outside any transaction.
``notification_attempts`` is append-only: one row per target per attempt, secrets redacted.
"""

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table, Text

from orgplane.store.tables.base import metadata
from orgplane.store.types import UTCDateTime

__all__ = ["notification_attempts", "notifications"]

notifications = Table(
    "notifications",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(100), nullable=False, unique=True),
    # A message is about a decision, or (decision NULL) nags the owner of a follow-up.
    Column("decision_id", Integer, ForeignKey("decisions.id")),
    Column("follow_up_id", Integer, ForeignKey("follow_ups.id")),
    Column("recipient", String(100)),
    Column("tier", String(100)),
    Column("reason", String(16), nullable=False),
    Column("level", Integer, nullable=False),
    Column("title", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("claimed_by", String(100)),
    Column("claim_until", UTCDateTime),
    Column("sent_at", UTCDateTime),
    Column("last_error", Text),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_notifications_due", "status", "next_attempt_at"),
    Index("ix_notifications_decision", "decision_id"),
    Index("ix_notifications_follow_up", "follow_up_id"),
)

notification_attempts = Table(
    "notification_attempts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("notification_id", Integer, ForeignKey("notifications.id"), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("target", Text, nullable=False),
    Column("service", String(100)),
    Column("status", String(16), nullable=False),
    Column("detail", Text),
    Column("duration_ms", Integer, nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime, nullable=False),
    Column("sender", String(100), nullable=False),
    Index("ix_notification_attempts_notification", "notification_id", "id"),
)

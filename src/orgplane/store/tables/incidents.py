"""Incidents: failure events grouped by signature (seat, subject, kind), their timeline, and the
follow-ups their learnings leave.

``open_signature`` equals ``signature`` while an incident is open and is NULL once it is closed,
so its unique index lets one open incident per signature exist (the decisions table does the
same). A recurrence of a closed incident's signature reopens that row. ``incident_steps`` is
append-only: acknowledged, recovered, repeated, reopened, resumed, forced, closed..., each with
who and when (the first detected and decided steps are the incident's own columns).
``follow_ups`` are changes a learning still needs, owned by a seat.
"""

from sqlalchemy import JSON, Boolean, Column, ForeignKey, Index, Integer, String, Table, Text

from orgplane.store.tables.base import metadata
from orgplane.store.types import UTCDateTime

__all__ = ["follow_ups", "incident_filing", "incident_steps", "incidents"]

incidents = Table(
    "incidents",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("signature", String(400), nullable=False, index=True),
    Column("open_signature", String(400), unique=True),
    Column("status", String(16), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("subject_kind", String(16), nullable=False),
    Column("subject_id", String(200), nullable=False),
    Column("seat_id", String(100)),
    Column("run_id", String(200)),
    Column("tier", String(100)),
    Column("action", String(16)),
    Column("notify", String(100)),
    Column("first_event_id", Integer, ForeignKey("events.id"), nullable=False),
    Column("last_event_id", Integer, ForeignKey("events.id"), nullable=False),
    Column("events", Integer, nullable=False),
    # The three times the audit measures from: when it happened, when orgplane noticed (the
    # event was stored), when it was decided; then recovered and closed.
    Column("occurred_at", UTCDateTime, nullable=False),
    Column("detected_at", UTCDateTime, nullable=False),
    Column("decided_at", UTCDateTime),
    Column("acked_at", UTCDateTime),
    Column("acked_by", String(100)),
    Column("recovered_at", UTCDateTime),
    Column("closed_at", UTCDateTime),
    Column("closed_by", String(100)),
    Column("learning", Text),
    Column("change", JSON),
    # None until a learning is tested by what follows it: False once its signature came back.
    Column("learning_held", Boolean),
    Column("reopened", Integer, nullable=False, server_default="0"),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_incidents_subject", "subject_kind", "subject_id", "status"),
    Index("ix_incidents_occurred_at", "occurred_at"),
)

incident_steps = Table(
    "incident_steps",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("incident_id", Integer, ForeignKey("incidents.id"), nullable=False, index=True),
    Column("step", String(24), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(100)),
    Column("event_id", Integer, ForeignKey("events.id")),
    Column("decision_id", Integer, ForeignKey("decisions.id")),
    Column("detail", JSON, nullable=False),
)

follow_ups = Table(
    "follow_ups",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("incident_id", Integer, ForeignKey("incidents.id"), nullable=False, index=True),
    Column("text", Text, nullable=False),
    Column("owner", String(100), nullable=False),
    Column("due", UTCDateTime, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", String(100)),
    Column("done_at", UTCDateTime),
    Column("done_by", String(100)),
    Column("done_note", Text),
    Column("nagged_at", UTCDateTime),
    Column("nags", Integer, nullable=False, server_default="0"),
    Index("ix_follow_ups_due", "done_at", "due"),
)

incident_filing = Table(
    "incident_filing",
    metadata,
    # One row (slot "events"): every event up to ``through`` is filed. Filing follows deciding
    # in event order and stops at the first event not decided yet (learn/filing.file_pending).
    Column("slot", String(16), primary_key=True),
    Column("through", Integer, nullable=False),
)

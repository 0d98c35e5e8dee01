"""Tables of silent-failure detection.

``watch_states`` holds the current state of everything watched (an output, its schedule, a
metric, a heartbeat) with a stored ``deadline``: the moment it turns stale or down if nothing
new arrives, as healthchecks.io stores ``alert_after``. ``watch_transitions`` is the
append-only history of state changes, stamped with when the change happened. ``publishes``,
``pings`` and ``metric_values`` are what seats push into orgplane; they are kept for the org's
``retention`` (see :mod:`orgplane.watch.prune`), publishes for the last few per output.
"""

from sqlalchemy import (
    JSON,
    Column,
    Float,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
)

from orgplane.store.tables.base import metadata
from orgplane.store.types import UTCDateTime

__all__ = ["metric_values", "pings", "publishes", "watch_states", "watch_transitions"]

watch_states = Table(
    "watch_states",
    metadata,
    Column("subject_kind", String(16), primary_key=True),
    Column("subject_id", String(200), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("reason", Text, nullable=False),
    Column("since", UTCDateTime, nullable=False),
    Column("last_good_at", UTCDateTime),
    Column("data_at", UTCDateTime),
    Column("content_hash", String(64)),
    Column("same_content", Integer, nullable=False),
    Column("deadline", UTCDateTime),
    Column("checked_at", UTCDateTime, nullable=False),
    Column("details", JSON, nullable=False),
)

watch_transitions = Table(
    "watch_transitions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("subject_kind", String(16), nullable=False),
    Column("subject_id", String(200), nullable=False),
    Column("from_status", String(16)),
    Column("to_status", String(16), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    Column("reason", Text, nullable=False),
    Column("event_id", Integer),
    Index("ix_watch_transitions_subject", "subject_kind", "subject_id", "at"),
    Index("ix_watch_transitions_at", "at"),  # pruning by age (migration 0004)
)

publishes = Table(
    "publishes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("output_id", String(100), nullable=False),
    Column("published_at", UTCDateTime, nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("size", Integer, nullable=False),
    Column("repeats", Integer, nullable=False),
    Column("data_at", UTCDateTime),  # the content's own time; a repeat counts when it moves
    Column("status", String(16)),  # its classification when published: keeps the last good one
    Index("ix_publishes_output_id", "output_id", "published_at"),
)

pings = Table(
    "pings",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("subject_kind", String(16), nullable=False),
    Column("subject_id", String(200), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("source", String(16), nullable=False),
    Column("note", Text),
    Index("ix_pings_subject", "subject_kind", "subject_id", "at"),
    # A pass reads recent pings by time; covering, so no planner prefers walking a subject
    # index through the whole history instead (migration 0004).
    Index("ix_pings_at", "at", "subject_kind", "subject_id", "kind"),
)

metric_values = Table(
    "metric_values",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("metric_id", String(100), nullable=False),
    Column("value", Float, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("pushed_at", UTCDateTime, nullable=False),
    Column("pushed_by", String(100)),
    Index("ix_metric_values_metric_id", "metric_id", "at"),
    Index("ix_metric_values_at", "at", "metric_id", "value"),  # covering, as ix_pings_at
)

"""Hand-offs and manual checkpoints: the work people do inside agents' runs.

``handoffs`` is the human queue: a record an agent (or a person, with ``orgplane checkpoint
--handoff``) handed to a human seat, with why, and how it was resolved (``done``: the person
finished it; ``return``: it went back into its run at the next stage with the person's output).
``during_failure`` is fixed at write time: true when the run was failed or held then, so the
delegation ledger can tell a hand-off by design from a person doing the agent's work after a
failure. ``overdue_event_id`` is the one failure event of an item older than its seat answers.

``manual_checkpoints`` logs every ``orgplane checkpoint`` with the run's state when it was made
(the checkpoint row itself only keeps the latest write), for the same ledger.
"""

from sqlalchemy import JSON, Boolean, Column, Index, Integer, String, Table, Text

from orgplane.store.tables.base import metadata
from orgplane.store.types import UTCDateTime

__all__ = ["handoffs", "manual_checkpoints"]

handoffs = Table(
    "handoffs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(200), nullable=False),
    Column("record_key", String(200), nullable=False),
    Column("stage", String(100), nullable=False),
    Column("process_id", String(100), nullable=False),
    Column("from_seat", String(100)),
    Column("to_seat", String(100), nullable=False),
    Column("reason", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("resolved_at", UTCDateTime),
    Column("resolved_by", String(100)),
    Column("outcome", String(16)),
    Column("output", JSON),
    Column("note", Text),
    Column("overdue_event_id", Integer),
    Column("during_failure", Boolean, nullable=False),
    Index("ix_handoffs_to_seat_resolved_at", "to_seat", "resolved_at"),
    Index("ix_handoffs_run_id_record_key", "run_id", "record_key"),
    Index("ix_handoffs_created_at", "created_at"),
)

manual_checkpoints = Table(
    "manual_checkpoints",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(200), nullable=False),
    Column("record_key", String(200), nullable=False),
    Column("stage", String(100), nullable=False),
    Column("action", String(16), nullable=False),
    Column("run_status", String(16), nullable=False),
    Column("during_failure", Boolean, nullable=False),
    Column("actor", String(100)),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_manual_checkpoints_run_id", "run_id"),
    Index("ix_manual_checkpoints_created_at", "created_at"),
)

"""Drill results: one row per scenario step (a scenario run on one subject), kept in the live store.

A drill runs against a scratch copy of the org and its own scratch store, so the live store
holds only these rows: never an event, a decision or a run of a drill, so no audit figure or
scorecard counts one. ``audit readiness`` reads the latest row of each scenario and subject,
and flags the processes and outputs no drill ever covered. ``score`` is the step as scored
(detected and in how long, the tier and action chosen against the expected, who would be told).
"""

from sqlalchemy import JSON, Boolean, Column, Index, Integer, String, Table

from orgplane.store.tables.base import metadata
from orgplane.store.types import UTCDateTime

__all__ = ["drills"]

drills = Table(
    "drills",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("drill_id", String(40), nullable=False),  # one `orgplane drill` invocation
    Column("scenario", String(40), nullable=False),
    Column("subject_kind", String(16), nullable=False),
    Column("subject_id", String(200), nullable=False),
    Column("ran_at", UTCDateTime, nullable=False),
    Column("passed", Boolean, nullable=False),
    Column("actor", String(100)),
    Column("score", JSON, nullable=False),
    Index("ix_drills_subject", "subject_kind", "subject_id", "ran_at"),
    Index("ix_drills_scenario", "scenario", "ran_at"),
)

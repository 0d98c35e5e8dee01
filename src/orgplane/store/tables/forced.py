"""Forced resumes: a run held by an unhandled error that a person resumed anyway, with why.

A run stopped by an error nobody declared is held until the error is classified in org.yaml;
``orgplane run resume RUN --reason TEXT`` overrides that, and the override is kept here (and as a
``forced`` step on the run's open incident), so the audit sees who restarted what unfixed.
"""

from sqlalchemy import JSON, Column, ForeignKey, Index, Integer, String, Table, Text

from orgplane.store.tables.base import metadata
from orgplane.store.types import UTCDateTime

__all__ = ["forced_resumes"]

forced_resumes = Table(
    "forced_resumes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(200), ForeignKey("runs.id"), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(100)),
    Column("reason", Text, nullable=False),
    Column("record_key", String(200)),
    Column("stage", String(100)),
    Column("error", JSON, nullable=False),
    Column("incident_id", Integer, ForeignKey("incidents.id")),
    Index("ix_forced_resumes_run_id", "run_id"),
)

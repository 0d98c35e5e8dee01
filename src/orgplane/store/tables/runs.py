"""Tables of durable staged processes: one row per run (a batch), per record, per (record, stage).

``run_records`` carries each record's lease (which worker holds it and until when): workers
claim records by compare-and-set on these columns rather than holding row locks while they work.
``run_checkpoints`` is the durable memory of a run: a row per (record, stage) saying started
(the intent of an effectful stage), done (with its output), failed, skipped, in doubt or held.
"""

from sqlalchemy import (
    JSON,
    Column,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
    text,
)

from orgplane.store.tables.base import metadata
from orgplane.store.types import UTCDateTime

__all__ = ["run_checkpoints", "run_records", "runs"]

runs = Table(
    "runs",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("process_id", String(100), nullable=False),
    Column("batch", String(100), nullable=False),
    Column("seat_id", String(100)),
    Column("status", String(16), nullable=False),
    Column("stages", JSON, nullable=False),
    Column("records_total", Integer, nullable=False),
    Column("records_digest", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
    Column("stopped_record", String(200)),
    Column("stopped_stage", String(100)),
    Column("error", JSON),
    UniqueConstraint("process_id", "batch"),
)

run_records = Table(
    "run_records",
    metadata,
    Column("run_id", String(200), ForeignKey("runs.id"), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("key", String(200), nullable=False),
    Column("input", JSON, nullable=False),
    Column("state", String(16), nullable=False),
    Column("lease_owner", String(100)),
    Column("lease_until", UTCDateTime),
    UniqueConstraint("run_id", "key"),
    # Partial: only records still to be worked, so settling one removes its entry and claims
    # scan nothing but claimable records.
    Index(
        "ix_run_records_claim",
        "run_id",
        "seq",
        sqlite_where=text("state = 'active'"),
        postgresql_where=text("state = 'active'"),
    ),
)

run_checkpoints = Table(
    "run_checkpoints",
    metadata,
    Column("run_id", String(200), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("stage", String(100), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("output", JSON),
    Column("error", JSON),
    Column("idempotency_key", String(64)),  # None on a pure stage's done row: derivable
    Column("attempts", Integer, nullable=False),
    Column("worker", String(100)),
    Column("reconciled", String(16)),
    Column("started_at", UTCDateTime),
    Column("updated_at", UTCDateTime, nullable=False),
    ForeignKeyConstraint(["run_id", "seq"], ["run_records.run_id", "run_records.seq"]),
)

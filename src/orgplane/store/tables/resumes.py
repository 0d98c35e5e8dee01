"""Resume attempts: each time the daemon restarted a run whose worker died, for a decision.

The primary key (decision, attempt) is the compare-and-set: of two daemons that see one dead
run, the one that inserts attempt N starts the process; the other finds the row and moves on.
"""

from sqlalchemy import Column, ForeignKey, Integer, String, Table, Text

from orgplane.store.tables.base import metadata
from orgplane.store.types import UTCDateTime

__all__ = ["resume_attempts"]

resume_attempts = Table(
    "resume_attempts",
    metadata,
    Column("decision_id", Integer, ForeignKey("decisions.id"), primary_key=True),
    Column("attempt", Integer, primary_key=True),
    Column("run_id", String(200), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("host", String(255), nullable=False),
    Column("pid", Integer),
    Column("command", Text, nullable=False),
    Column("finished_at", UTCDateTime),
    Column("exit_code", Integer),
)

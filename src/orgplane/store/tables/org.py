"""The declared org as stored: one row per seat, output, process and metric ever declared.

Rows are never deleted: an item removed from the file is marked retired (seats) or removed
(the rest), so runtime history keeps pointing at it. Each sync and each change it made are
appended to ``org_syncs`` and ``org_changes``; ``synced_org`` keeps the digest of the org last
synced, so an unchanged org file is recognised with one read.
"""

from sqlalchemy import JSON, Boolean, Column, ForeignKey, Integer, String, Table, Text

from orgplane.store.tables.base import metadata
from orgplane.store.types import UTCDateTime


def _declared_columns() -> list[Column[object]]:
    """Columns every declared item has: its declaration, and when it came and went."""
    return [
        Column("status", String(16), nullable=False),
        Column("declared", JSON, nullable=False),
        Column("digest", String(64), nullable=False),
        Column("first_declared_at", UTCDateTime, nullable=False),
        Column("updated_at", UTCDateTime, nullable=False),
        Column("removed_at", UTCDateTime),
    ]


seats = Table(
    "seats",
    metadata,
    Column("id", String(100), primary_key=True),
    Column("title", Text, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("holder", Text),
    Column("reports_to", String(100)),
    Column("owner", String(100)),
    *_declared_columns(),
)

outputs = Table(
    "outputs",
    metadata,
    Column("id", String(100), primary_key=True),
    Column("producer", String(100), ForeignKey("seats.id"), nullable=False),
    Column("critical", Boolean, nullable=False),
    *_declared_columns(),
)

processes = Table(
    "processes",
    metadata,
    Column("id", String(100), primary_key=True),
    Column("seat", String(100), ForeignKey("seats.id"), nullable=False),
    *_declared_columns(),
)

metrics = Table(
    "metrics",
    metadata,
    Column("id", String(100), primary_key=True),
    Column("owner", String(100), ForeignKey("seats.id"), nullable=False),
    *_declared_columns(),
)

org_syncs = Table(
    "org_syncs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("source", Text),
    Column("org_name", Text, nullable=False),
    Column("changes", Integer, nullable=False),
    # Why the org changed when orgplane itself edited the file: a learning closing an incident,
    # a hearing's verdict. NULL for an edit made by hand.
    Column("cause", Text),
    Column("incident_id", Integer),
    Column("actor", String(100)),
)

org_changes = Table(
    "org_changes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("sync_id", Integer, ForeignKey("org_syncs.id"), nullable=False, index=True),
    Column("entity", String(16), nullable=False),
    Column("entity_id", String(100), nullable=False),
    Column("change", String(16), nullable=False),
    Column("before", JSON),
    Column("after", JSON),
)

synced_org = Table(
    "synced_org",
    metadata,
    # One row (slot "org"): a store holds one org, and this is the digest of its last sync.
    Column("slot", String(16), primary_key=True),
    Column("digest", String(64), nullable=False),
    Column("synced_at", UTCDateTime, nullable=False),
)

"""Retirement hearings: one row per hearing of a seat, from its evidence to its verdict.

``evidence`` is what seat health found when the hearing was opened (the seat's runs, outputs
and corrections, judged by its thresholds); ``verdict`` is what was decided (retire, with every
reassignment and the org.yaml diff, or keep, with the reason). ``sync_id`` is the org sync that
recorded a retirement's edit in ``org_changes``. ``open_seat`` equals ``seat_id`` while the
hearing is open and is NULL once decided, so its unique index allows one open hearing a seat.
"""

from sqlalchemy import JSON, Column, ForeignKey, Integer, String, Table, Text

from orgplane.store.tables.base import metadata
from orgplane.store.types import UTCDateTime

__all__ = ["hearings"]

hearings = Table(
    "hearings",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("seat_id", String(100), nullable=False, index=True),
    Column("open_seat", String(100), unique=True),
    Column("status", String(16), nullable=False),
    Column("opened_at", UTCDateTime, nullable=False),
    Column("opened_by", String(100)),
    Column("evidence", JSON, nullable=False),
    Column("verdict", JSON),
    Column("reason", Text),
    Column("decided_at", UTCDateTime),
    Column("decided_by", String(100)),
    Column("sync_id", Integer, ForeignKey("org_syncs.id")),
)

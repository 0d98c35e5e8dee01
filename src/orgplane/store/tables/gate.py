"""Tables of the coverage gate.

``last_good_files`` keeps, per file output a seat reads with ``use_last_good``, a copy of the
content last seen fresh (bounded by the output's ``max_bytes``): the file on disk is overwritten
by its producer, so orgplane keeps what it may hand out later (published outputs have it in
``publishes``). ``gate_answers`` is the append-only record of every answer the gate gave: who
asked, which input, what was given, why and when; kept for the org's ``retention``.
"""

from sqlalchemy import Boolean, Column, Index, Integer, LargeBinary, String, Table, Text

from orgplane.store.tables.base import metadata
from orgplane.store.types import UTCDateTime

__all__ = ["gate_answers", "last_good_files"]

last_good_files = Table(
    "last_good_files",
    metadata,
    Column("output_id", String(100), primary_key=True),
    Column("content", LargeBinary, nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("size", Integer, nullable=False),
    Column("data_at", UTCDateTime),  # the content's own time
    Column("kept_at", UTCDateTime, nullable=False),  # when it was seen fresh
    Column("source", Text, nullable=False),
)

gate_answers = Table(
    "gate_answers",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("seat_id", String(100), nullable=False),
    Column("output_id", String(100), nullable=False),
    Column("answered_at", UTCDateTime, nullable=False),
    Column("status", String(16), nullable=False),
    Column("protocol", String(16), nullable=False),
    Column("given", String(16), nullable=False),  # content, last_good, nothing, refused
    Column("current", Boolean, nullable=False),
    Column("content_hash", String(64)),
    Column("size", Integer),
    Column("content_at", UTCDateTime),
    Column("escalate_to", String(100)),
    Column("reason", Text, nullable=False),
    Index("ix_gate_answers_seat", "seat_id", "answered_at"),
    Index("ix_gate_answers_at", "answered_at"),  # pruning by age
)

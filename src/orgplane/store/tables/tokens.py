"""API tokens: one row per token a seat was given, holding only its hash and a short prefix.

The token itself is shown once, when created; what is stored cannot be turned back into it
(the SHA-256 of 256 random bits). ``prefix`` names the token in ``token list`` and
``token revoke``; ``revoked_at`` ends it without losing the record of who had it.
"""

from sqlalchemy import Column, Integer, String, Table

from orgplane.store.tables.base import metadata
from orgplane.store.types import UTCDateTime

__all__ = ["api_tokens"]

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("prefix", String(16), nullable=False, unique=True),
    Column("token_hash", String(64), nullable=False),
    Column("seat_id", String(100), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_used_at", UTCDateTime),
    Column("revoked_at", UTCDateTime),
)

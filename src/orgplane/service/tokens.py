"""Use cases of API tokens: create one for a seat, list them, revoke one, resolve one to its seat.

A token is ``orgplane_<prefix>_<secret>``: the prefix (8 hex characters) names it in lists and
revocations and is stored in clear; the secret is 256 random bits, never stored. What is stored
is the SHA-256 of the whole token: a plain hash is enough for a secret that cannot be guessed
(no password to slow down a dictionary against), and it keeps each request's check cheap.
Creating, listing and revoking are the local operator's (the CLI); the HTTP API only resolves.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime, timedelta
from typing import Any

from orgplane.errors import NotFoundError, UsageError
from orgplane.service.models import Result
from orgplane.service.session import Session

TOKEN_PREFIX = "orgplane_"
_SHAPE = re.compile(r"^orgplane_([0-9a-f]{8})_([A-Za-z0-9_-]{43})$")
LAST_USED_EVERY = timedelta(minutes=1)
"""``last_used_at`` is refreshed at most this often, so reads do not each write a row."""


class TokenView(Result):
    """A token as ``token list`` shows it: never the token itself."""

    prefix: str
    seat: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    revoked: bool


class TokenCreated(Result):
    """A new token: ``token`` is shown this once and cannot be read back."""

    prefix: str
    seat: str
    created_at: datetime
    token: str


class TokenList(Result):
    """Every token, newest first, revoked ones included."""

    tokens: list[TokenView]


def token_hash(token: str) -> str:
    """The stored form of ``token`` (hex SHA-256)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(session: Session, seat_id: str) -> TokenCreated:
    """A new token for the active seat ``seat_id``; only its hash and prefix are stored.
    NotFoundError for an undeclared seat; UsageError for a retired one."""
    from sqlalchemy import select

    from orgplane.org.lookup import find_declared
    from orgplane.store.tables import api_tokens
    from orgplane.store.types import utcnow

    seat = find_declared(session.org().seats, "seat", seat_id)
    if seat.status != "active":
        raise UsageError(f"seat {seat_id} is retired; create tokens for active seats only")
    now = utcnow()
    with session.store().write() as conn:
        taken = set(conn.execute(select(api_tokens.c.prefix)).scalars())
        prefix = secrets.token_hex(4)
        while prefix in taken:  # one in four billion per existing token
            prefix = secrets.token_hex(4)
        token = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
        conn.execute(
            api_tokens.insert().values(
                prefix=prefix, token_hash=token_hash(token), seat_id=seat.id, created_at=now
            )
        )
    return TokenCreated(prefix=prefix, seat=seat.id, created_at=now, token=token)


def list_tokens(session: Session) -> TokenList:
    """Every token newest first: seat, prefix, created, last used, revoked."""
    from sqlalchemy import select

    from orgplane.store.tables import api_tokens

    with session.store().read() as conn:
        rows = conn.execute(select(api_tokens).order_by(api_tokens.c.id.desc())).mappings().all()
    return TokenList(tokens=[_view(dict(r)) for r in rows])


def revoke_token(session: Session, prefix: str) -> TokenView:
    """Revoke the token named by ``prefix`` (from ``token list``); revoking twice keeps the
    first time. NotFoundError when no token has that prefix."""
    from sqlalchemy import select

    from orgplane.store.tables import api_tokens
    from orgplane.store.types import utcnow

    wanted = prefix.strip().removeprefix(TOKEN_PREFIX)[:8]
    with session.store().write() as conn:
        row = (
            conn.execute(select(api_tokens).where(api_tokens.c.prefix == wanted)).mappings().first()
        )
        if row is None:
            raise NotFoundError(
                f"no token with prefix {prefix!r}; see 'orgplane token list'",
                kind="token",
                name=prefix,
            )
        if row["revoked_at"] is None:
            conn.execute(
                api_tokens.update().where(api_tokens.c.id == row["id"]).values(revoked_at=utcnow())
            )
            row = (
                conn.execute(select(api_tokens).where(api_tokens.c.id == row["id"]))
                .mappings()
                .one()
            )
    return _view(dict(row))


def seat_for_token(session: Session, token: str) -> str | None:
    """The seat ``token`` acts as, or None: malformed, unknown, revoked, or its seat is no
    longer an active seat of the org. Compares hashes in constant time; notes the use (at most
    once a minute per token)."""
    from sqlalchemy import select

    from orgplane.store.tables import api_tokens
    from orgplane.store.types import utcnow

    shape = _SHAPE.match(token)
    if shape is None:
        return None
    store = session.store()
    with store.read() as conn:
        row = (
            conn.execute(select(api_tokens).where(api_tokens.c.prefix == shape.group(1)))
            .mappings()
            .first()
        )
    if row is None or row["revoked_at"] is not None:
        return None
    if not hmac.compare_digest(row["token_hash"], token_hash(token)):
        return None
    seat = session.org().seats.get(row["seat_id"])
    if seat is None or seat.status != "active":
        return None
    now = utcnow()
    if row["last_used_at"] is None or now - row["last_used_at"] >= LAST_USED_EVERY:
        with store.write() as conn:
            conn.execute(
                api_tokens.update().where(api_tokens.c.id == row["id"]).values(last_used_at=now)
            )
    return str(row["seat_id"])


def _view(row: dict[str, Any]) -> TokenView:
    return TokenView(
        prefix=str(row["prefix"]),
        seat=str(row["seat_id"]),
        created_at=row["created_at"],
        last_used_at=row["last_used_at"],
        revoked_at=row["revoked_at"],
        revoked=row["revoked_at"] is not None,
    )

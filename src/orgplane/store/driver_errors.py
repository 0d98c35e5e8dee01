"""What a database driver's error means for the person running orgplane: one classifier.

SQLAlchemy wraps the driver's exception in a ``DBAPIError``; the raw hot path meets ``sqlite3``
and ``psycopg`` errors bare. Both go through :func:`store_error`, which picks the
:class:`~orgplane.errors.StoreError` subclass of the cause and writes one line naming the
database and the fix. SQLite says what went wrong in its result code; psycopg gives a SQLSTATE
for errors the server raised, but a failed connection has none, so its message is read.
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from sqlalchemy.exc import DBAPIError

from orgplane.errors import (
    NotADatabase,
    StoreAuthFailed,
    StoreCorrupt,
    StoreError,
    StoreLocked,
    StoreSchemaError,
    StoreUnreachable,
)

if TYPE_CHECKING:
    import psycopg


def driver_errors() -> tuple[type[Exception], ...]:
    """Every exception a database driver (or SQLAlchemy on its behalf) can have raised by now.

    psycopg's are among them once psycopg is imported (it is, by the first PostgreSQL
    connection): a command on SQLite never pays for importing it.
    """
    loaded = sys.modules.get("psycopg")
    return (DBAPIError, sqlite3.Error, loaded.Error) if loaded else (DBAPIError, sqlite3.Error)


_FIX_URL = "check --db / ORGPLANE_DB"

# SQLite primary result codes (the low byte of the extended code).
_SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_CORRUPT, _SQLITE_CANTOPEN, _SQLITE_NOTADB = 5, 6, 11, 14, 26
_SQLITE_PERM, _SQLITE_READONLY, _SQLITE_IOERR, _SQLITE_FULL = 3, 8, 10, 13

_PG_UNREACHABLE = (
    "connection refused",
    "timeout expired",
    "timed out",
    "failed to resolve host",
    "could not translate host name",
    "name or service not known",
    "no route to host",
    "network is unreachable",
    "server closed the connection",
    "connection is lost",
    "the connection is closed",
    "consuming input failed",
    "no such file or directory",  # a Unix socket that is not there
)


def store_error(url: str, exc: BaseException) -> StoreError:
    """The StoreError subclass for driver error ``exc`` met on the database at ``url``.

    Never raises; an error it cannot place is a plain StoreError carrying the driver's words.
    """
    orig = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    reason = _first_line(orig)
    if isinstance(orig, sqlite3.Error):
        return _sqlite_error(url, orig, reason)
    loaded = sys.modules.get("psycopg")
    if loaded is not None and isinstance(orig, loaded.Error):
        return _postgres_error(url, orig, reason)
    return StoreError(f"database {url}: {reason}; {_FIX_URL}", url=url)


@contextmanager
def wrap_driver_errors(url: str) -> Iterator[None]:
    """Re-raise any driver error met inside the block as the StoreError of its cause."""
    try:
        yield
    except Exception as exc:
        if isinstance(exc, driver_errors()):
            raise store_error(url, exc) from exc
        raise


def _sqlite_error(url: str, exc: sqlite3.Error, reason: str) -> StoreError:
    code = (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF
    where = f"SQLite database {url}"
    if code == _SQLITE_NOTADB:
        return NotADatabase(
            f"{where}: the file is not a SQLite database; point --db / ORGPLANE_DB at an "
            "orgplane store or at a path that does not exist yet",
            url=url,
        )
    if code in (_SQLITE_BUSY, _SQLITE_LOCKED):
        return StoreLocked(
            f"{where}: locked by another process for longer than the busy timeout; retry "
            "when it finishes, or wait longer with ?timeout=SECONDS on the URL",
            url=url,
        )
    if code == _SQLITE_CORRUPT:
        return StoreCorrupt(
            f"{where}: the database is damaged ({reason}); stop writing and restore it from a "
            "backup",
            url=url,
        )
    if code in (_SQLITE_CANTOPEN, _SQLITE_PERM, _SQLITE_READONLY, _SQLITE_IOERR, _SQLITE_FULL):
        return StoreUnreachable(
            f"{where}: cannot open or write the file ({reason}); check that the path is a file "
            "you may read and write, on a disk with space",
            url=url,
        )
    if "no such table" in reason or "no such column" in reason:
        return StoreSchemaError(
            f"{where}: {reason}; the schema is not the one this orgplane expects, {_FIX_URL}",
            url=url,
        )
    return StoreError(f"{where}: {reason}; {_FIX_URL}", url=url)


def _postgres_error(url: str, exc: psycopg.Error, reason: str) -> StoreError:
    state = exc.sqlstate or ""
    text = str(exc).lower()
    where = f"PostgreSQL database {url}"
    if state == "3D000" or ("database" in text and "does not exist" in text):
        return NotADatabase(
            f"{where}: {_server_words(reason)}; create it (createdb NAME) or fix the database "
            "name in --db / ORGPLANE_DB",
            url=url,
        )
    if state.startswith("28") or ("role" in text and "does not exist" in text) or _auth(text):
        return StoreAuthFailed(
            f"{where}: the server refused the credentials ({_server_words(reason)}); fix the "
            "user or password in --db / ORGPLANE_DB",
            url=url,
        )
    if state in ("55P03", "40P01", "57014"):
        return StoreLocked(
            f"{where}: a statement waited longer than orgplane waits ({_server_words(reason)});"
            " retry when the other work finishes, or wait longer with "
            "?options=-c%20lock_timeout%3D...%20-c%20statement_timeout%3D... on the URL",
            url=url,
        )
    if state == "XX001" or state == "XX002":
        return StoreCorrupt(
            f"{where}: the server reports damaged data ({_server_words(reason)}); restore it "
            "from a backup",
            url=url,
        )
    if state in ("42P01", "42703", "3F000"):
        return StoreSchemaError(
            f"{where}: {_server_words(reason)}; the schema is not the one this orgplane "
            f"expects, {_FIX_URL}",
            url=url,
        )
    if state.startswith("08") or (not state and any(m in text for m in _PG_UNREACHABLE)):
        return StoreUnreachable(
            f"{where}: no usable answer from the server ({_server_words(reason)}); check "
            "--db / ORGPLANE_DB (its host and port) and that the server is up",
            url=url,
        )
    return StoreError(f"{where}: {_server_words(reason)}; {_FIX_URL}", url=url)


def _auth(text: str) -> bool:
    return "password authentication failed" in text or "no password supplied" in text


def _server_words(reason: str) -> str:
    """The part of a libpq message that says what happened, without the connection preamble."""
    for marker in ("FATAL:", "ERROR:", "failed:"):
        if marker in reason:
            reason = reason.rsplit(marker, 1)[1]
    return " ".join(reason.split()) or "no reason given"


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0].strip() if lines else type(exc).__name__

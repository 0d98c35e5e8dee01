"""The runner's hot path to the store: one driver connection, plain SQL, batched writes.

Checkpointing is the runner's whole cost, so the hot path talks to the database driver directly
(sqlite3 or psycopg) on one connection held for the worker's life, instead of going through
SQLAlchemy per statement (about ten times the per-statement cost of the driver). Everything
else (creating runs, status, failures) uses SQLAlchemy Core on the same connection.
Values are written in exactly the form SQLAlchemy's column types write them, so both paths read
each other's rows.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

from sqlalchemy import Connection

from orgplane.errors import StoreError
from orgplane.store.driver_errors import driver_errors, store_error, wrap_driver_errors
from orgplane.store.engine import Store


def _trouble() -> tuple[type[Exception], ...]:
    """Every error the drivers raise; each becomes the StoreError of its cause (driver_errors.py).
    Asked only when something was raised: psycopg is imported only for a PostgreSQL store."""
    return driver_errors()


class RawDb:
    """A worker's connection: ``transaction()`` for raw SQL, ``sa`` for SQLAlchemy Core."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.sqlite = store.dialect == "sqlite"
        self._sql: dict[str, str] = {}
        # The engine's pooled connection: the timeouts of engine.py hold on this path too.
        with wrap_driver_errors(store.url):
            self.sa: Connection = store.engine.connect().execution_options(orgplane_write=True)
            driver: Any = self.sa.connection.driver_connection
            self.driver = driver
            self.cursor: Any = driver.cursor()

    def sql(self, text: str) -> str:
        """SQL written with ``?`` placeholders, in the driver's parameter style."""
        if self.sqlite:
            return text
        converted = self._sql.get(text)
        if converted is None:
            converted = self._sql[text] = text.replace("?", "%s")
        return converted

    def ts(self, value: datetime) -> Any:
        """A timestamp as the UTCDateTime column stores it (naive UTC text on SQLite)."""
        if self.sqlite:
            # isoformat with microseconds is SQLAlchemy's text form, and faster than strftime.
            if value.tzinfo is not UTC:  # utcnow() is UTC already: skip the conversion
                value = value.astimezone(UTC)
            return value.replace(tzinfo=None).isoformat(" ", "microseconds")
        return value

    def json_out(self, value: Any) -> Any:
        """A JSON column's value as Python (sqlite3 returns the text, psycopg parses it)."""
        if self.sqlite and isinstance(value, str):
            return json.loads(value)
        return value

    def ts_out(self, value: Any) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            return datetime.fromisoformat(value).replace(tzinfo=UTC)
        assert isinstance(value, datetime)
        return value.astimezone(UTC)

    def transaction(self) -> Transaction:
        """A write transaction on the driver connection: ``with db.transaction() as cursor``.

        Commits on success, rolls back on any error. On SQLite it starts with BEGIN IMMEDIATE,
        so writers queue on the busy timeout instead of failing to upgrade a read lock.
        """
        return Transaction(self)

    def snapshot(self) -> Transaction:
        """A read transaction (one consistent snapshot, no write lock taken on SQLite)."""
        return Transaction(self, "BEGIN")

    @contextmanager
    def sa_transaction(self) -> Iterator[Any]:
        """A transaction opened through SQLAlchemy, so ``self.sa`` (for :func:`record_event`)
        and the raw cursor it yields write in one transaction."""
        with wrap_driver_errors(self.store.url), self.sa.begin(), _driver_trouble(self.store.url):
            yield self.cursor

    def many(self, cursor: Any, text: str, rows: Sequence[Sequence[Any]]) -> int:
        """Execute one statement for many rows; the total row count it touched."""
        if not rows:
            return 0
        cursor.executemany(self.sql(text), rows)
        return int(cursor.rowcount)

    def autocommit(self, text: str, params: Sequence[Any]) -> None:
        """One write statement outside any transaction: on SQLite (autocommit) it is its own
        transaction, committed when it returns, as durable as BEGIN ... COMMIT around it and two
        statements cheaper. SQLite only: psycopg connections are not in autocommit mode."""
        assert self.sqlite
        try:
            self.cursor.execute(text, params)
        except Exception as exc:  # the URL is rendered only then: it costs a µs a step
            if not isinstance(exc, _trouble()):
                raise
            raise _store_error(self.store.url, exc) from exc

    def one(self, cursor: Any, text: str, params: Sequence[Any]) -> Any:
        cursor.execute(self.sql(text), params)
        return cursor

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.cursor.close()
        self.sa.close()


class Transaction:
    """The hot path's transaction (a class, not a generator: it runs once per effectful step)."""

    __slots__ = ("begin", "db")

    def __init__(self, db: RawDb, begin: str = "BEGIN IMMEDIATE") -> None:
        self.db = db
        self.begin = begin

    def __enter__(self) -> Any:
        if self.db.sqlite:
            try:
                self.db.cursor.execute(self.begin)
            except Exception as exc:
                if not isinstance(exc, _trouble()):
                    raise
                raise _store_error(self.db.store.url, exc) from exc
        return self.db.cursor

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        db = self.db
        try:
            if kind is None:
                if db.sqlite:
                    db.cursor.execute("COMMIT")
                else:
                    db.driver.commit()
                return
            if db.sqlite:
                with contextlib.suppress(sqlite3.Error):  # the error may have ended it already
                    db.cursor.execute("ROLLBACK")
            else:
                with contextlib.suppress(*_trouble()):
                    db.driver.rollback()
            if isinstance(exc, _trouble()):
                raise _store_error(db.store.url, exc) from exc
        except Exception as trouble:
            if not isinstance(trouble, _trouble()):
                raise
            raise _store_error(db.store.url, trouble) from trouble


def _store_error(url: str, exc: BaseException) -> StoreError:
    return store_error(url, exc)


@contextmanager
def _driver_trouble(url: str) -> Iterator[None]:
    try:
        yield
    except Exception as exc:
        if not isinstance(exc, _trouble()):
            raise
        raise _store_error(url, exc) from exc

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
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from orgplane.store.engine import Store, wrap_driver_errors


class RawDb:
    """A worker's connection: ``transaction()`` for raw SQL, ``sa`` for SQLAlchemy Core."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.sqlite = store.dialect == "sqlite"
        with wrap_driver_errors(store.url):
            self.sa: Connection = store.engine.connect().execution_options(orgplane_write=True)
            self.driver: Any = self.sa.connection.driver_connection

    def sql(self, text: str) -> str:
        """SQL written with ``?`` placeholders, in the driver's parameter style."""
        return text if self.sqlite else text.replace("?", "%s")

    def ts(self, value: datetime) -> Any:
        """A timestamp as the UTCDateTime column stores it (naive UTC text on SQLite)."""
        if self.sqlite:
            return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
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

    @contextmanager
    def transaction(self, *, with_sa: bool = False) -> Iterator[Any]:
        """A write transaction on the driver connection; commits on success, rolls back on error.

        On SQLite it starts with BEGIN IMMEDIATE, so writers queue instead of failing to upgrade.
        With ``with_sa`` the transaction is opened through SQLAlchemy, so ``self.sa`` (for
        :func:`record_event`) and the raw cursor write in one transaction.
        """
        with wrap_driver_errors(self.store.url):
            if with_sa:
                with self.sa.begin():
                    cursor = self.driver.cursor()
                    try:
                        yield cursor
                    finally:
                        cursor.close()
                return
            cursor = self.driver.cursor()
            try:
                if self.sqlite:
                    cursor.execute("BEGIN IMMEDIATE")
                yield cursor
            except BaseException:
                if self.sqlite:
                    _rollback(cursor)
                else:
                    self.driver.rollback()
                raise
            else:
                if self.sqlite:
                    cursor.execute("COMMIT")
                else:
                    self.driver.commit()
            finally:
                cursor.close()

    def many(self, cursor: Any, text: str, rows: Sequence[Sequence[Any]]) -> int:
        """Execute one statement for many rows; the total row count it touched."""
        if not rows:
            return 0
        cursor.executemany(self.sql(text), rows)
        return int(cursor.rowcount)

    def one(self, cursor: Any, text: str, params: Sequence[Any]) -> Any:
        cursor.execute(self.sql(text), params)
        return cursor

    def close(self) -> None:
        self.sa.close()


def _rollback(cursor: Any) -> None:
    with contextlib.suppress(Exception):  # the error may already have ended the transaction
        cursor.execute("ROLLBACK")

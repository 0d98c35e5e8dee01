"""The INSERT of the connection's own dialect, for ``ON CONFLICT`` upserts on both backends.

Only the dialect in use is imported: a command on SQLite never loads SQLAlchemy's PostgreSQL
dialect (and the other way round).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Connection, Table

if TYPE_CHECKING:
    from sqlalchemy.dialects import postgresql, sqlite


def dialect_insert(conn: Connection, table: Table) -> postgresql.Insert | sqlite.Insert:
    """``insert(table)`` with ``on_conflict_do_nothing`` / ``on_conflict_do_update`` for the
    backend of ``conn``."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table)

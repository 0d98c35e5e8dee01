"""A batch of rows in one statement: on PostgreSQL an ``unnest`` of one array per column (one
parameter a column however many rows), on SQLite an executemany (which SQLAlchemy sends as
multi-row INSERTs).

A multi-row ``VALUES`` of 500 rows has thousands of placeholders: psycopg parses that text
again for every batch and the server plans it anew, which costs more than storing the rows.
An ``unnest`` statement is the same short text every time, prepared once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, CursorResult, Executable, Select, bindparam, cast, func, select
from sqlalchemy.types import TypeEngine


def unnest(types: Mapping[str, TypeEngine[Any]]) -> Select[Any]:
    """``SELECT unnest(CAST(:a_rows AS T[])) AS a, ...``, a column per key of ``types``
    (PostgreSQL zips arrays of one length into rows, in order): the source of an
    ``INSERT ... SELECT`` or an ``UPDATE ... FROM`` run by :func:`execute_rows`."""
    from sqlalchemy.dialects.postgresql import ARRAY

    return select(
        *(
            func.unnest(cast(bindparam(_param(key), type_=ARRAY(kind)), ARRAY(kind))).label(key)
            for key, kind in types.items()
        )
    )


def execute_rows(
    conn: Connection, statement: Executable, rows: Sequence[Mapping[str, Any]]
) -> CursorResult[Any]:
    """Run ``statement`` for every row (each with the same keys): on PostgreSQL once, with a
    list per key (a statement built on :func:`unnest`), elsewhere as an executemany."""
    if conn.dialect.name != "postgresql":
        return conn.execute(statement, list(rows))
    return conn.execute(statement, {_param(key): [row[key] for row in rows] for key in rows[0]})


def _param(key: str) -> str:
    # not the column's own name: SQLAlchemy keeps those for the SET and VALUES it renders
    return f"{key}_rows"

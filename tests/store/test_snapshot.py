"""``Store.read()`` is the consistent snapshot it promises, on both backends: a commit made by
another connection between two SELECTs of one read is seen by neither, and the read is read
only on PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, func, insert, select

from orgplane.errors import StoreError
from orgplane.store.engine import Store, open_store
from orgplane.store.tables import org_syncs
from orgplane.store.types import utcnow


def add_sync(store: Store) -> None:
    with store.write() as conn:
        conn.execute(insert(org_syncs).values(at=utcnow(), org_name="other", changes=0))


def syncs(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(org_syncs)).scalar_one())


def test_two_selects_in_one_read_see_the_same_rows(store: Store) -> None:
    with store.read() as conn:
        before = syncs(conn)
        add_sync(store)  # another connection commits in between
        assert syncs(conn) == before
        assert conn.execute(select(org_syncs.c.org_name)).all().count(("other",)) == 0
    with store.read() as conn:
        assert syncs(conn) == before + 1  # the next read sees it


@pytest.mark.postgres
def test_a_read_cannot_write_on_postgresql(pg_schema_url: str) -> None:
    store = open_store(pg_schema_url)
    try:
        with pytest.raises(StoreError) as caught, store.read() as conn:
            conn.execute(insert(org_syncs).values(at=utcnow(), org_name="x", changes=0))
        assert "read-only transaction" in str(caught.value)
    finally:
        store.dispose()

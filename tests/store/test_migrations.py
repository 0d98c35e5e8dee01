"""The migrations build exactly the schema the tables declare, on both backends."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from orgplane.store.engine import open_store
from orgplane.store.migrate import current_revision, head_revision, upgrade
from orgplane.store.tables import metadata


def test_migrations_match_tables(db_url: str) -> None:
    store = open_store(db_url)
    try:
        with store.read() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, metadata)
        assert diff == []
        assert current_revision(store) == head_revision(store)
    finally:
        store.dispose()


def test_upgrade_twice_is_a_no_op(db_url: str) -> None:
    store = open_store(db_url)
    try:
        upgrade(store)
        assert current_revision(store) == head_revision(store)
    finally:
        store.dispose()


def test_head_is_alembics_head(db_url: str) -> None:
    from orgplane.store.migrate import HEAD, head_revision

    store = open_store(db_url)
    try:
        assert head_revision(store) == HEAD, "set store.migrate.HEAD to the newest revision"
    finally:
        store.dispose()

"""Bringing a database to the schema this version expects, through Alembic.

Alembic is imported only when a migration is due: a store already at :data:`HEAD` costs one
plain query (every command opens the store, and importing Alembic alone takes longer than most
commands' work).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text

from orgplane.errors import StoreError
from orgplane.store.engine import Store, wrap_driver_errors

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
HEAD = "0016"
"""The newest revision in ``migrations/versions`` (a test checks it is Alembic's head)."""
_PG_LOCK = 0x6F7267706C  # any fixed number: serialises migrations of several processes


def alembic_config(store: Store) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["store"] = store
    return config


def head_revision(store: Store) -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config(store)).get_current_head()


def current_revision(store: Store) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with store.read() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def _at_head(store: Store) -> bool:
    """True when the store's recorded revision is :data:`HEAD` (one plain query)."""
    try:
        with store.read() as conn:
            versions = conn.execute(text("SELECT version_num FROM alembic_version")).scalars()
            return list(versions) == [HEAD]
    except StoreError:  # no version table yet (a new store), or worse: the slow path will say
        return False


def upgrade(store: Store) -> None:
    """Migrate to head; a no-op (one cheap query) when the schema is already current.

    Safe to call from many processes at once: PostgreSQL serialises on an advisory lock,
    SQLite on its write lock.
    """
    if _at_head(store):
        return
    from alembic import command

    with wrap_driver_errors(store.url):
        if current_revision(store) == head_revision(store):
            return
        with store.engine.connect() as conn:
            conn = conn.execution_options(orgplane_write=True)
            with conn.begin():
                if store.dialect == "postgresql":
                    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK})
                config = alembic_config(store)
                config.attributes["connection"] = conn
                command.upgrade(config, "head")

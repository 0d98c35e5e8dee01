"""Bringing a database to the schema this version expects, through Alembic."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text

from orgplane.store.engine import Store, wrap_driver_errors

MIGRATIONS = Path(__file__).parent / "migrations"
_PG_LOCK = 0x6F7267706C  # any fixed number: serialises migrations of several processes


def alembic_config(store: Store) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["store"] = store
    return config


def head_revision(store: Store) -> str | None:
    return ScriptDirectory.from_config(alembic_config(store)).get_current_head()


def current_revision(store: Store) -> str | None:
    with store.read() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(store: Store) -> None:
    """Migrate to head; a no-op (one cheap query) when the schema is already current.

    Safe to call from many processes at once: PostgreSQL serialises on an advisory lock,
    SQLite on its write lock.
    """
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

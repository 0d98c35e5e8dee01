"""Opening the store: which database, how it is tuned, and the connection seam every concern uses.

SQLite (the embedded default) runs in WAL mode so readers never block the writer; a write
transaction starts with ``BEGIN IMMEDIATE`` so two writers queue on the busy timeout instead of
failing on a lock upgrade. ``synchronous=NORMAL`` in WAL mode survives any process crash
(SIGKILL included); only a power cut can lose the last commits. PostgreSQL is reached through
psycopg 3 with a pre-ping, so a restarted server costs one reconnect, not an error.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError

from orgplane.errors import StoreError, UsageError

DEFAULT_DB_NAME = "orgplane.db"
URL_HINT = "write sqlite:///path/to/orgplane.db or postgresql://user@host:5432/dbname"


def resolve_db_url(db: str | None, org_path: Path | None) -> str:
    """The database URL to use: ``--db``, else ``ORGPLANE_DB``, else SQLite beside the org file."""
    chosen = db or os.environ.get("ORGPLANE_DB")
    if not chosen:
        folder = org_path.resolve().parent if org_path else Path.cwd()
        return f"sqlite:///{folder / DEFAULT_DB_NAME}"
    return normalise_url(chosen)


def normalise_url(url: str) -> str:
    """Accept the URL forms people write and name the driver orgplane uses."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise UsageError(f"--db {url!r} is not a database URL; {URL_HINT}") from None
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise UsageError(f"--db {url!r}: only SQLite and PostgreSQL are supported; {URL_HINT}")
    return url


class Store:
    """A handle on one database. Concerns call :meth:`write` and :meth:`read` and own their SQL."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def url(self) -> str:
        """The URL with any password hidden, for messages and ``--json`` output."""
        return self.engine.url.render_as_string(hide_password=True)

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A transaction that will write: committed on success, rolled back on any error."""
        with wrap_driver_errors(self.url), self.engine.connect() as conn:
            conn = conn.execution_options(orgplane_write=True)
            with conn.begin():
                yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only transaction (a consistent snapshot on both backends)."""
        with wrap_driver_errors(self.url), self.engine.connect() as conn, conn.begin():
            yield conn

    def dispose(self) -> None:
        self.engine.dispose()


@contextmanager
def wrap_driver_errors(url: str) -> Iterator[None]:
    """Turn a driver's connection failure into a StoreError a person can act on."""
    try:
        yield
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise StoreError(
            f"database {url}: {reason}; check --db / ORGPLANE_DB and that it is up"
        ) from exc
    except SQLAlchemyError:
        raise


def create_store_engine(url: str) -> Engine:
    """An engine tuned for orgplane's use of each backend."""
    url = normalise_url(url)
    if make_url(url).get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)


def _sqlite_engine(url: str) -> Engine:
    database = make_url(url).database
    if database and database != ":memory:":
        folder = Path(database).parent
        if not folder.exists():
            raise UsageError(f"--db {url!r}: folder {folder} does not exist; create it first")
    engine = create_engine(url, connect_args={"timeout": 60, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _tune(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's begin event issue BEGIN itself (the pysqlite driver would defer it).
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=60000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get("orgplane_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def open_store(
    url: str | None = None, *, org_path: Path | None = None, migrate: bool = True
) -> Store:
    """Open (and by default migrate to the current schema) the store at ``url``.

    With no URL the store is ``ORGPLANE_DB`` or SQLite beside ``org_path``.
    """
    from orgplane.store.migrate import upgrade

    store = Store(create_store_engine(resolve_db_url(url, org_path)))
    if migrate:
        upgrade(store)
    return store

"""Opening the store: which database, how it is tuned, and the connection seam every concern uses.

SQLite (the embedded default) runs in WAL mode so readers never block the writer; a write
transaction starts with ``BEGIN IMMEDIATE`` so two writers queue on the busy timeout instead of
failing on a lock upgrade. ``synchronous=NORMAL`` in WAL mode survives any process crash
(SIGKILL included); only a power cut can lose the last commits. PostgreSQL is reached through
psycopg 3 with a pre-ping, so a restarted server costs one reconnect, not an error.

Every wait is bounded (:data:`TIMEOUTS`): a server that accepts and never answers, or a lock
held forever, fails in seconds with a typed error instead of hanging. A URL may raise any of
them the way its driver already allows (``?timeout=`` for SQLite; ``?connect_timeout=`` and
``?options=-c statement_timeout=...`` / ``lock_timeout`` for PostgreSQL).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from stat import S_ISREG
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

from orgplane.errors import DatabaseUrlError, NotADatabase
from orgplane.store.driver_errors import wrap_driver_errors
from orgplane.store.urls import normalise_url

__all__ = [
    "DEFAULT_DB_NAME",
    "TIMEOUTS",
    "Store",
    "Timeouts",
    "create_store_engine",
    "normalise_url",
    "open_store",
    "resolve_db_url",
    "wrap_driver_errors",
]

DEFAULT_DB_NAME = "orgplane.db"


@dataclass(frozen=True)
class Timeouts:
    """How long orgplane waits for the database, at most, unless the URL says otherwise."""

    connect_s: int = 5
    """PostgreSQL: to connect (a TCP server that accepts and never answers included)."""
    statement_ms: int = 30_000
    """PostgreSQL: for any one statement."""
    lock_ms: int = 10_000
    """PostgreSQL: for any one lock (row, table or advisory)."""
    sqlite_busy_s: float = 30.0
    """SQLite: for another process's write lock (the busy timeout)."""


TIMEOUTS = Timeouts()


def resolve_db_url(db: str | None, org_path: Path | None) -> str:
    """The database URL to use: ``--db``, else ``ORGPLANE_DB``, else SQLite beside the org file.

    Raises DatabaseUrlError for a URL orgplane cannot use (an empty ``--db`` included).
    """
    chosen = db if db is not None else os.environ.get("ORGPLANE_DB")
    if chosen is None or (db is None and chosen == ""):
        folder = org_path.resolve().parent if org_path else Path.cwd()
        return f"sqlite:///{folder / DEFAULT_DB_NAME}"
    return normalise_url(chosen)


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
        """A read-only transaction: every statement in it sees one consistent snapshot.

        PostgreSQL: REPEATABLE READ, READ ONLY (a write in it fails). SQLite: a deferred
        transaction, whose snapshot is fixed by its first read.
        """
        with wrap_driver_errors(self.url), self.engine.connect() as conn, conn.begin():
            if self.dialect == "postgresql":
                conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            yield conn

    def dispose(self) -> None:
        self.engine.dispose()


def create_store_engine(url: str, timeouts: Timeouts = TIMEOUTS) -> Engine:
    """An engine tuned for orgplane's use of each backend, every wait bounded by ``timeouts``.

    Raises DatabaseUrlError for a URL it cannot use and NotADatabase for a SQLite path that is
    a folder or an empty file; it never connects (so never creates a file).
    """
    url = normalise_url(url)
    if make_url(url).get_backend_name() == "sqlite":
        return _sqlite_engine(url, timeouts)
    return _postgres_engine(url, timeouts)


def _postgres_engine(url: str, timeouts: Timeouts) -> Engine:
    parsed = make_url(url)
    options = str(parsed.query.get("options", ""))
    # Only what the URL leaves unsaid: a user's own setting always wins.
    for name, value in (
        ("statement_timeout", timeouts.statement_ms),
        ("lock_timeout", timeouts.lock_ms),
    ):
        if name not in options:
            options = f"{options} -c {name}={value}".strip()
    connect_args: dict[str, Any] = {"options": options}
    if "connect_timeout" not in parsed.query:
        connect_args["connect_timeout"] = timeouts.connect_s
    return create_engine(
        url, pool_pre_ping=True, pool_size=5, max_overflow=5, connect_args=connect_args
    )


def _sqlite_engine(url: str, timeouts: Timeouts) -> Engine:
    parsed = make_url(url)
    database = parsed.database
    busy = float(str(parsed.query.get("timeout", timeouts.sqlite_busy_s)))
    if database and database != ":memory:":
        _check_sqlite_path(url, Path(database))
    engine = create_engine(
        parsed.difference_update_query(["timeout"]),
        connect_args={"timeout": busy, "check_same_thread": False},
    )

    @event.listens_for(engine, "connect")
    def _tune(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's begin event issue BEGIN itself (the pysqlite driver would defer it).
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get("orgplane_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def _check_sqlite_path(url: str, path: Path) -> None:
    """Refuse, before SQLite would create or misread it, a path that cannot be a store."""
    folder = path.parent
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise DatabaseUrlError(
            f"--db {url}: folder {folder} {what}; create it first or name another path",
            url=url,
        )
    if path.is_dir():
        raise DatabaseUrlError(
            f"--db {url}: {path} is a folder; name a file inside it, e.g. "
            f"sqlite:///{path / DEFAULT_DB_NAME}",
            url=url,
        )
    try:
        stat = path.stat()
    except FileNotFoundError:
        return  # a new store: SQLite creates it, as the user asked
    except OSError as exc:
        raise NotADatabase(
            f"--db {url}: cannot look at {path} ({exc.strerror}); check its permissions", url=url
        ) from None
    if not S_ISREG(stat.st_mode):
        # A device or a FIFO: SQLite fails on a pipe with "disk I/O error" and writes into a device.
        raise DatabaseUrlError(
            f"--db {url}: {path} is not a regular file (a device, pipe or socket); name a file",
            url=url,
        )
    if stat.st_size == 0 and not Path(f"{path}-wal").exists():
        raise NotADatabase(
            f"--db {url}: {path} is an empty file (0 bytes), not a store; delete it to start "
            "a new store there, or restore the store from a backup",
            url=url,
        )


def open_store(
    url: str | None = None, *, org_path: Path | None = None, migrate: bool = True
) -> Store:
    """Open (and by default migrate to the current schema) the store at ``url``.

    With no URL the store is ``ORGPLANE_DB`` or SQLite beside ``org_path``. Opening a store
    that is already current writes nothing. Raises DatabaseUrlError for a bad URL and the
    StoreError of the cause when the database cannot be used.
    """
    from orgplane.store.migrate import upgrade

    store = Store(create_store_engine(resolve_db_url(url, org_path)))
    if migrate:
        try:
            upgrade(store)
        except BaseException:
            store.dispose()
            raise
    return store

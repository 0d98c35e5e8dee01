"""Every cause of a store that cannot be used is made for real and comes back as its own
StoreError with one line naming the database and the fix: a text file given as SQLite, a
PostgreSQL database that does not exist, a lock held past the wait (SQLite and PostgreSQL, on
the SQLAlchemy path and the runner's raw path), a closed port, an unknown host, a role the
server does not know."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from orgplane.errors import (
    NotADatabase,
    StoreAuthFailed,
    StoreCorrupt,
    StoreError,
    StoreLocked,
    StoreUnreachable,
)
from orgplane.org.models import Org
from orgplane.runs.rawdb import RawDb
from orgplane.store.engine import open_store
from orgplane.store.sync import SYNC_LOCK, sync_org
from tests.conftest import PG_REACHABLE, PG_URL

needs_pg = pytest.mark.skipif(not PG_REACHABLE, reason=f"PostgreSQL not reachable at {PG_URL}")


def one_line(exc: BaseException) -> str:
    message = str(exc)
    assert "\n" not in message, message
    return message


def test_a_text_file_given_as_sqlite_is_not_a_database(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("shopping: eggs, milk\n" * 40)
    with pytest.raises(NotADatabase) as caught:
        open_store(f"sqlite:///{notes}")
    assert "not a SQLite database" in one_line(caught.value)
    assert notes.read_text().startswith("shopping")  # left as it was


@pytest.fixture
def held_sqlite(tmp_path: Path) -> Iterator[str]:
    """A migrated SQLite store whose write lock another connection holds (BEGIN IMMEDIATE)."""
    path = tmp_path / "orgplane.db"
    open_store(f"sqlite:///{path}").dispose()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        yield f"sqlite:///{path}?timeout=0.3"
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_sqlite_busy_past_the_wait_is_locked(held_sqlite: str, org: Org) -> None:
    store = open_store(held_sqlite)  # reading needs no lock in WAL mode
    try:
        started = time.monotonic()
        with pytest.raises(StoreLocked) as caught:
            sync_org(store, org)
        assert time.monotonic() - started < 10
        assert "locked by another process" in one_line(caught.value)
        assert "?timeout=" in str(caught.value)
    finally:
        store.dispose()


def test_sqlite_busy_on_the_raw_path_is_locked(held_sqlite: str) -> None:
    store = open_store(held_sqlite)
    db = RawDb(store)
    try:
        with pytest.raises(StoreLocked), db.transaction() as cursor:
            cursor.execute("SELECT 1")
    finally:
        db.close()
        store.dispose()


def test_a_damaged_sqlite_file_is_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "orgplane.db"
    open_store(f"sqlite:///{path}").dispose()
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA journal_mode=DELETE")
        conn.execute("CREATE TABLE filler(x)")
        conn.executemany("INSERT INTO filler VALUES (randomblob(600))", [()] * 300)
    raw = bytearray(path.read_bytes())
    page = 4096
    raw[page * 2 : page * 6] = b"\xa5" * (page * 4)  # scribble over b-tree pages
    path.write_bytes(bytes(raw))
    with pytest.raises((StoreCorrupt, NotADatabase)) as caught:
        store = open_store(f"sqlite:///{path}")
        with store.read() as conn:
            conn.execute(text("SELECT count(*) FROM filler")).all()
            conn.execute(text("SELECT count(*) FROM seats")).all()
    assert "damaged" in one_line(caught.value) or "not a SQLite" in str(caught.value)


@needs_pg
def test_a_postgresql_database_that_does_not_exist_is_not_a_database() -> None:
    url = make_url(PG_URL).set(database="orgplane_no_such_db").render_as_string(False)
    with pytest.raises(NotADatabase) as caught:
        open_store(url)
    message = one_line(caught.value)
    assert 'database "orgplane_no_such_db" does not exist' in message
    assert "createdb" in message


@needs_pg
def test_an_unknown_role_is_bad_credentials() -> None:
    url = make_url(PG_URL).set(username="orgplane_no_such_role").render_as_string(False)
    with pytest.raises(StoreAuthFailed) as caught:
        open_store(url)
    message = one_line(caught.value)
    assert 'role "orgplane_no_such_role" does not exist' in message
    assert "fix the user or password" in message


def test_a_closed_port_is_unreachable() -> None:
    with pytest.raises(StoreUnreachable) as caught:
        open_store("postgresql://postgres@127.0.0.1:1/test")
    message = one_line(caught.value)
    assert "Connection refused" in message
    assert "check --db / ORGPLANE_DB (its host and port)" in message


def test_an_unknown_host_is_unreachable() -> None:
    with pytest.raises(StoreUnreachable) as caught:
        open_store("postgresql://postgres@orgplane-no-such-host.invalid/test")
    assert "orgplane-no-such-host.invalid" in one_line(caught.value)


@pytest.mark.postgres
def test_a_postgresql_lock_held_past_lock_timeout_is_locked(pg_schema_url: str, org: Org) -> None:
    open_store(pg_schema_url).dispose()  # migrated with the default waits (other runs migrate too)
    parsed = make_url(pg_schema_url)
    options = f"{parsed.query['options']} -c lock_timeout=300"
    short = parsed.update_query_dict({"options": options}).render_as_string(False)
    store = open_store(short, migrate=False)
    holder = psycopg.connect(PG_URL)
    try:
        holder.execute("SELECT pg_advisory_xact_lock(%s)", (SYNC_LOCK,))
        started = time.monotonic()
        with pytest.raises(StoreLocked) as caught:
            sync_org(store, org)
        assert time.monotonic() - started < 10
        assert "lock timeout" in one_line(caught.value)
    finally:
        holder.rollback()
        holder.close()
        store.dispose()


def test_an_error_it_cannot_place_is_still_a_store_error(db_url: str) -> None:
    """A statement the server rejects for a reason with no cause of its own (here a call to a
    function that does not exist) is a StoreError with the driver's words, not a driver error."""
    store = open_store(db_url)
    try:
        with pytest.raises(StoreError) as caught, store.read() as conn:
            conn.execute(text("SELECT no_such_function_anywhere()"))
        one_line(caught.value)
    finally:
        store.dispose()

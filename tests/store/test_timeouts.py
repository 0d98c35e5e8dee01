"""Every wait on the database is bounded, on the SQLAlchemy path and the runner's raw path:
a server that accepts and never answers fails in seconds as StoreUnreachable, statements and
locks have a limit on PostgreSQL and the busy wait one on SQLite, and a URL can raise each."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from orgplane.errors import StoreUnreachable
from orgplane.runs.rawdb import RawDb
from orgplane.store.engine import TIMEOUTS, Store, open_store
from tests.store.bounded import within

OUTER_LIMIT = 60.0  # a regression fails the test after this long instead of hanging the suite


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP server on a free local port that accepts every connection and never says a word."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted: list[socket.socket] = []
    stopping = threading.Event()

    def serve() -> None:
        listener.settimeout(0.2)
        while not stopping.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stopping.set()
        thread.join(5)
        for conn in accepted:
            conn.close()
        listener.close()


def test_a_server_that_never_answers_is_unreachable_in_seconds(silent_server: int) -> None:
    url = f"postgresql://postgres@127.0.0.1:{silent_server}/test"
    started = time.monotonic()
    error = within(OUTER_LIMIT, lambda: open_store(url))
    took = time.monotonic() - started
    assert isinstance(error, StoreUnreachable), repr(error)
    assert "\n" not in str(error)
    # libpq may try twice (with and without SSL): each attempt has its own connect timeout.
    assert took < 3 * TIMEOUTS.connect_s, f"took {took:.1f}s"


def test_the_url_can_shorten_or_raise_the_connect_timeout(silent_server: int) -> None:
    url = f"postgresql://postgres@127.0.0.1:{silent_server}/test?connect_timeout=1&sslmode=disable"
    started = time.monotonic()
    error = within(OUTER_LIMIT, lambda: open_store(url))
    assert isinstance(error, StoreUnreachable), repr(error)
    assert time.monotonic() - started < TIMEOUTS.connect_s


def settings(store: Store) -> dict[str, str]:
    """The waits a connection of ``store`` has, read through SQLAlchemy and the raw driver."""
    found: dict[str, str] = {}
    names = ("statement_timeout", "lock_timeout") if store.dialect == "postgresql" else ()
    with store.read() as conn:
        for name in names:
            found[f"sa {name}"] = conn.execute(text(f"SHOW {name}")).scalar_one()
        if store.dialect == "sqlite":
            found["sa busy"] = str(conn.execute(text("PRAGMA busy_timeout")).scalar_one())
    db = RawDb(store)
    try:
        with db.snapshot() as cursor:
            for name in names:
                found[f"raw {name}"] = db.one(cursor, f"SHOW {name}", ()).fetchone()[0]
            if store.dialect == "sqlite":
                found["raw busy"] = str(db.one(cursor, "PRAGMA busy_timeout", ()).fetchone()[0])
    finally:
        db.close()
    return found


def test_every_connection_has_bounded_waits_by_default(db_url: str) -> None:
    store = open_store(db_url)
    try:
        found = settings(store)
    finally:
        store.dispose()
    if store.dialect == "sqlite":
        busy = str(int(TIMEOUTS.sqlite_busy_s * 1000))
        assert found == {"sa busy": busy, "raw busy": busy}
    else:
        statement = f"{TIMEOUTS.statement_ms // 1000}s"
        lock = f"{TIMEOUTS.lock_ms // 1000}s"
        assert found == {
            "sa statement_timeout": statement,
            "raw statement_timeout": statement,
            "sa lock_timeout": lock,
            "raw lock_timeout": lock,
        }


def test_a_url_raises_the_waits_the_way_its_driver_allows(db_url: str, tmp_path: Path) -> None:
    if db_url.startswith("sqlite"):
        url = f"{db_url}?timeout=120"
    else:
        parsed = make_url(db_url)
        options = f"{parsed.query['options']} -c statement_timeout=90000"
        url = parsed.update_query_dict({"options": options}).render_as_string(False)
    store = open_store(url)
    try:
        found = settings(store)
    finally:
        store.dispose()
    if store.dialect == "sqlite":
        assert found == {"sa busy": "120000", "raw busy": "120000"}
    else:
        assert found["sa statement_timeout"] == found["raw statement_timeout"] == "90s"
        assert found["sa lock_timeout"] == f"{TIMEOUTS.lock_ms // 1000}s"  # still the default

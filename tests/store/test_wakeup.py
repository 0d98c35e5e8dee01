"""Waking a decider: a commit by another connection wakes it (NOTIFY on PostgreSQL, the newest
id on SQLite); nothing committed, or events in another schema of the same database, do not."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from orgplane.respond.events import FailureEvent, record_event
from orgplane.store.engine import Store, open_store
from orgplane.store.types import utcnow
from orgplane.store.wakeup import EventWakeup


def stale(subject: str) -> FailureEvent:
    return FailureEvent(
        kind="stale", occurred_at=utcnow(), subject_kind="output", subject_id=subject, message="m"
    )


def record_later(store: Store, delay: float, subject: str = "dash-analysis") -> threading.Thread:
    def write() -> None:
        time.sleep(delay)
        with store.write() as conn:
            record_event(conn, stale(subject))

    thread = threading.Thread(target=write)
    thread.start()
    return thread


@pytest.fixture
def bare_store(db_url: str) -> Iterator[Store]:
    store = open_store(db_url)
    yield store
    store.dispose()


def test_a_commit_elsewhere_wakes_the_waiter(bare_store: Store) -> None:
    writer = open_store(bare_store.url)  # another engine: another process, as far as it knows
    wakeup = EventWakeup(bare_store, poll=0.02)
    try:
        assert wakeup.wait(0.2) is False  # nothing committed
        thread = record_later(writer, 0.1)
        assert wakeup.wait(20.0) is True  # returns at the commit, far before the timeout
        thread.join()
        assert wakeup.wait(0.2) is False  # that commit was one wake-up, not two
    finally:
        wakeup.close()
        writer.dispose()


@pytest.mark.postgres
def test_events_of_another_schema_do_not_wake(pg_schema_url: str) -> None:
    import psycopg

    from tests.conftest import PG_URL

    ours = open_store(pg_schema_url)
    other_schema = "t_wake_other"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{other_schema}" CASCADE')
        conn.execute(f'CREATE SCHEMA "{other_schema}"')
    other = open_store(f"{PG_URL}?options=-csearch_path%3D{other_schema}")
    wakeup = EventWakeup(ours)
    try:
        thread = record_later(other, 0.05, "elsewhere")
        assert wakeup.wait(1.0) is False
        thread.join()
        with ours.read() as conn:
            assert conn.execute(text("SELECT count(*) FROM events")).scalar() == 0
    finally:
        wakeup.close()
        other.dispose()
        ours.dispose()
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{other_schema}" CASCADE')


@pytest.mark.postgres
def test_a_lost_listening_connection_falls_back_and_listens_again(pg_schema_url: str) -> None:
    import psycopg

    from tests.conftest import PG_URL

    store = open_store(pg_schema_url)
    wakeup = EventWakeup(store, poll=0.02)
    try:
        pid = wakeup._listener.info.backend_pid
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute("SELECT pg_terminate_backend(%s)", (pid,))
        thread = record_later(store, 0.1)
        assert wakeup.wait(5.0) is True  # seen by polling while the listener is gone
        thread.join()
        assert wakeup._listen() and wakeup._listener.info.backend_pid != pid
        thread = record_later(store, 0.1)
        assert wakeup.wait(20.0) is True  # and by NOTIFY again
        thread.join()
    finally:
        wakeup.close()
        store.dispose()

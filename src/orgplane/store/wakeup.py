"""Waking a decider when events are committed, by any process on any machine.

PostgreSQL: ``LISTEN orgplane_events`` on a connection of its own; migration 0009's trigger
NOTIFYs once per statement that adds events, with the schema as payload, so a commit wakes
every daemon on that schema at once. If the listening connection is lost, it falls back to
polling and listens again at the next wait. SQLite has no notifications: the newest event id is
polled (an index lookup) every ``poll`` seconds. Either way :meth:`EventWakeup.wait` also
returns at its timeout, so a missed wake-up costs at most one timeout.
"""

from __future__ import annotations

import contextlib
import logging
import time
from select import select as readable_within
from typing import Any

from sqlalchemy import func, select

from orgplane.store.engine import Store
from orgplane.store.tables import events

__all__ = ["CHANNEL", "EventWakeup"]

CHANNEL = "orgplane_events"
log = logging.getLogger("orgplane.daemon")


class EventWakeup:
    """Blocks a decider until new events may be waiting, or a timeout passes."""

    def __init__(self, store: Store, *, poll: float = 0.1) -> None:
        self.store = store
        self.poll = poll
        self._last_id = self._newest_id()
        self._listener: Any = None  # the psycopg connection LISTENing, when there is one
        self._schema: str | None = None
        if store.dialect == "postgresql":
            self._listen()

    def wait(self, timeout: float) -> bool:
        """Return True as soon as events may have been committed since the last call, False at
        ``timeout`` with nothing seen (callers decide at every return anyway)."""
        if self.store.dialect == "postgresql" and self._listen():
            return self._wait_notified(timeout)
        return self._wait_polled(timeout)

    def close(self) -> None:
        """Stop listening and give the connection back."""
        if self._listener is not None:
            with contextlib.suppress(Exception):
                self._listener.close()
            self._listener = None

    def _newest_id(self) -> int:
        with self.store.read() as conn:
            return int(conn.execute(select(func.max(events.c.id))).scalar() or 0)

    def _wait_polled(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while True:
            newest = self._newest_id()
            if newest != self._last_id:
                self._last_id = newest
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            time.sleep(min(self.poll, left))

    def _listen(self) -> bool:
        """LISTEN on a connection of our own (before the caller's first look at the events, so
        nothing committed in between is missed); False when the server cannot be reached."""
        if self._listener is not None:
            return True
        try:
            raw = self.store.engine.raw_connection()
            conn = raw.driver_connection
            raw.detach()  # ours for the daemon's life, never handed back to the pool
            assert conn is not None
            conn.rollback()
            conn.autocommit = True
            row = conn.execute("SELECT current_schema()").fetchone()
            self._schema = row[0] if row else None
            conn.execute(f"LISTEN {CHANNEL}")
        except Exception as exc:  # a lost server: poll meanwhile, listen again next time
            log.warning("cannot LISTEN for events (%s); polling instead", _first_line(exc))
            return False
        self._listener = conn
        return True

    def _wait_notified(self, timeout: float) -> bool:
        """Wait on the socket itself and read what arrived: psycopg's ``notifies()`` generator
        can block past its timeout once the time left reaches zero."""
        pgconn = self._listener.pgconn
        deadline = time.monotonic() + timeout
        try:
            while True:
                if self._pending_notice(pgconn):
                    return True
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                readable, _, _ = readable_within([pgconn.socket], [], [], left)
                if readable:
                    pgconn.consume_input()
        except Exception as exc:
            log.warning("lost the LISTEN connection (%s); polling meanwhile", _first_line(exc))
            self.close()
            return self._wait_polled(min(timeout, 1.0))

    def _pending_notice(self, pgconn: Any) -> bool:
        """Take every notification already received; True if one is for our schema (several
        queued while the caller was busy are one wake-up, not many)."""
        ours = False
        while (notice := pgconn.notifies()) is not None:
            ours = ours or notice.extra.decode() == self._schema
        return ours


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__

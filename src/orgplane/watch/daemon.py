"""The watcher: one check pass every interval until SIGTERM or SIGINT.

It survives everything a pass can meet: an unreadable or vanishing file is a finding, a broken
org file keeps the last good one, an unreachable database costs one log line and a retry at the
next interval (the pool is dropped so the retry reconnects). Each transition is recorded once
by :func:`orgplane.watch.state.save_findings`, however many watchers share the database.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from types import FrameType

from sqlalchemy.exc import SQLAlchemyError

from orgplane.errors import OrgplaneError, StoreError
from orgplane.org.loader import load_org
from orgplane.org.models import Org
from orgplane.store.engine import Store, open_store
from orgplane.store.sync import sync_org
from orgplane.store.types import utcnow
from orgplane.watch.check import check_once
from orgplane.watch.prune import prune_pass

Log = Callable[[str], None]


def _stderr(line: str) -> None:
    print(f"{utcnow().isoformat(timespec='seconds')} {line}", file=sys.stderr, flush=True)


class Watcher:
    """Runs check passes on ``org_path`` against the store at ``db`` until :meth:`stop`."""

    def __init__(self, org_path: Path, db: str | None, interval: timedelta, log: Log = _stderr):
        self.org_path = org_path
        self.db = db
        self.interval = interval
        self.log = log
        self.stopping = threading.Event()
        self.passes = 0
        self._org: Org | None = None
        self._store: Store | None = None
        self._synced: Org | None = None
        self._sqlite_file: Path | None = None

    def stop(self) -> None:
        """Ask the loop to finish after the current pass (safe from a signal handler)."""
        self.stopping.set()

    def run(self) -> None:
        """Loop until stopped; a SIGTERM or SIGINT stops it cleanly between passes."""
        previous = {s: signal.signal(s, self._on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
        self.log(f"watching {self.org_path} every {self.interval.total_seconds():g}s")
        try:
            while not self.stopping.is_set():
                self.run_pass()
                self.stopping.wait(self.interval.total_seconds())
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            if self._store is not None:
                self._store.dispose()
            self.log(f"stopped after {self.passes} passes")

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        self.stop()

    def run_pass(self) -> None:
        """One pass; every failure becomes one log line and the next interval retries."""
        org = self._load_org()
        if org is None:
            return
        try:
            store = self._connect(org)
            report = check_once(store, org)
            prune_pass(store, org, report.checked_at)  # a bounded batch of old history a pass
        except (OrgplaneError, SQLAlchemyError, OSError) as exc:
            reason = _one_line(exc)
            if isinstance(exc, SQLAlchemyError):  # the driver's words, not SQLAlchemy's wrapper
                reason = f"database error: {_one_line(getattr(exc, 'orig', None) or exc)}"
            self.log(f"pass skipped: {reason}; retrying in {self.interval.total_seconds():g}s")
            self._drop_store()
            return
        self.passes += 1
        if store.dialect == "sqlite":
            # Between passes hold no SQLite file open: a database file that is moved, restored
            # from a backup or replaced is then the one the next pass uses, never an orphan.
            store.engine.dispose()
        for transition in report.transitions:
            self.log(
                f"{transition['subject_kind']} {transition['subject_id']}: "
                f"{transition['from_status'] or 'new'} -> {transition['to_status']} "
                f"at {transition['at'].isoformat(timespec='seconds')}: {transition['reason']}"
            )

    def _load_org(self) -> Org | None:
        try:
            self._org = load_org(self.org_path)
        except OrgplaneError as exc:
            if self._org is None:
                self.log(f"pass skipped: {_one_line(exc)}")
                return None
            self.log(f"org file unusable, watching the last good one: {_one_line(exc)}")
        return self._org

    def _connect(self, org: Org) -> Store:
        if self._sqlite_file is not None and not self._sqlite_file.exists():
            # Connecting would create an empty database and carry on in it: wait for the real one.
            raise StoreError(
                f"database file {self._sqlite_file} is gone (moved or deleted); "
                "waiting for it to come back rather than starting an empty one"
            )
        if self._store is None:
            self._store = open_store(self.db, org_path=self.org_path)
            self._synced = None
            database = self._store.engine.url.database
            if self._store.dialect == "sqlite" and database and database != ":memory:":
                self._sqlite_file = Path(database)
        if self._synced != org:  # sync again only when the file changed
            sync_org(self._store, org)
            self._synced = org
        return self._store

    def _drop_store(self) -> None:
        if self._store is not None:
            with contextlib.suppress(Exception):  # a broken pool must not kill the watcher
                self._store.dispose()
            self._store = None


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__

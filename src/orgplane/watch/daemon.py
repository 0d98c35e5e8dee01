"""The watcher: one check pass every interval until SIGTERM or SIGINT.

It survives everything a pass can meet: an unreadable or vanishing file is a finding, a broken
org file keeps the last good one, an unreachable database costs one log line and a retry at the
next interval (the pool is dropped so the retry reconnects). Each transition is recorded once
by :func:`orgplane.watch.state.save_findings`, however many watchers share the database.

A SQLite store is held open only during a pass, so a store that is moved, deleted or restored
from a backup is the one the next pass opens; a log its old file left behind is moved aside,
never replayed into the new one (:mod:`orgplane.store.sqlite_files`). A store found damaged is
said to be, and not written to again until it is replaced.

Everything is logged through :mod:`logging` on the ``orgplane.watch`` logger.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path
from types import FrameType

from orgplane.errors import OrgplaneError, StoreCorrupt
from orgplane.org.loader import load_org
from orgplane.org.models import Org
from orgplane.store.driver_errors import driver_errors, store_error
from orgplane.store.engine import Store, create_store_engine, resolve_db_url
from orgplane.store.migrate import upgrade
from orgplane.store.sqlite_files import LeftoverLogGuard, Reopening, verify_integrity
from orgplane.store.sync import ensure_synced
from orgplane.watch.check import check_once
from orgplane.watch.prune import prune_pass

log = logging.getLogger("orgplane.watch")
_PASS_TROUBLE: tuple[type[Exception], ...] = (OrgplaneError, OSError)  # and driver errors


def log_to_stderr() -> None:
    """Send orgplane's log (the watcher's, the daemon's) to stderr, one timestamped line per
    record, unless the program has configured logging itself (its handlers are then used)."""
    parent = logging.getLogger("orgplane")
    if logging.getLogger().handlers or parent.handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    formatter = logging.Formatter("%(asctime)s %(message)s", "%Y-%m-%dT%H:%M:%S+00:00")
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    parent.addHandler(handler)
    parent.setLevel(logging.INFO)


class Watcher:
    """Runs check passes on ``org_path`` against the store at ``db`` until :meth:`stop`."""

    def __init__(self, org_path: Path, db: str | None, interval: timedelta):
        self.org_path = org_path
        self.db = db
        self.interval = interval
        self.stopping = threading.Event()
        self.passes = 0
        self._org: Org | None = None
        self._store: Store | None = None
        self._guard: LeftoverLogGuard | None = None
        self._corrupt: StoreCorrupt | None = None

    def stop(self) -> None:
        """Ask the loop to finish after the current pass (safe from a signal handler)."""
        self.stopping.set()

    def run(self) -> None:
        """Loop until stopped; a SIGTERM or SIGINT stops it cleanly between passes.

        A URL that can never work raises DatabaseUrlError at once instead of being retried.
        """
        resolve_db_url(self.db, self.org_path)
        log_to_stderr()
        previous = {s: signal.signal(s, self._on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
        try:
            self.serve()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def serve(self) -> None:
        """The loop itself, without signal handling: for a thread of a larger daemon, which
        stops it with :meth:`stop`."""
        log.info("watching %s every %gs", self.org_path, self.interval.total_seconds())
        try:
            while not self.stopping.is_set():
                self.run_pass()
                self.stopping.wait(self.interval.total_seconds())
        finally:
            self._drop_store()
            log.info("stopped after %d passes", self.passes)

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        self.stop()

    def run_pass(self) -> None:
        """One pass; every failure becomes one log line and the next interval retries."""
        org = self._load_org()
        if org is None:
            return
        retry = f"retrying in {self.interval.total_seconds():g}s"
        try:
            store = self._connect(org)
            report = check_once(store, org)
            prune_pass(store, org, report.checked_at)  # a bounded batch of old history a pass
        except StoreCorrupt as exc:
            self._corrupt = exc
            log.error("store is damaged, not writing to it: %s", _one_line(exc))
            self._drop_store()
            return
        except Exception as exc:
            if not isinstance(exc, (*_PASS_TROUBLE, *driver_errors())):
                raise
            if isinstance(exc, driver_errors()) and self._store is not None:
                exc = store_error(self._store.url, exc)  # the driver's words, classified
            log.warning("pass skipped: %s; %s", _one_line(exc), retry)
            self._drop_store()
            return
        self.passes += 1
        self._close_between_passes(store)
        for transition in report.transitions:
            log.info(
                "%s %s: %s -> %s at %s: %s",
                transition["subject_kind"],
                transition["subject_id"],
                transition["from_status"] or "new",
                transition["to_status"],
                transition["at"].isoformat(timespec="seconds"),
                transition["reason"],
            )

    def _load_org(self) -> Org | None:
        try:
            self._org = load_org(self.org_path)
        except OrgplaneError as exc:
            if self._org is None:
                log.warning("pass skipped: %s", _one_line(exc))
                return None
            log.warning("org file unusable, watching the last good one: %s", _one_line(exc))
        return self._org

    def _connect(self, org: Org) -> Store:
        """The store, migrated, with ``org`` synced (one read when it is the org last synced)."""
        new = self._store is None
        if self._store is None:
            self._store = Store(create_store_engine(resolve_db_url(self.db, self.org_path)))
            database = self._store.engine.url.database
            if self._store.dialect != "sqlite" or not database or database == ":memory:":
                self._guard = None
            elif self._guard is None or self._guard.path != Path(database):
                self._guard = LeftoverLogGuard(Path(database))  # it remembers across reopenings
        store = self._store
        reopening = self._guard.before_open() if self._guard else Reopening()
        if reopening.moved:
            log.warning(
                "the store was replaced while a log of the old file was left beside it; moved "
                "%s aside instead of replaying it into the new file",
                ", ".join(p.name for p in reopening.moved),
            )
        if reopening.fresh or self._corrupt is not None:
            # Before the first write to a file not seen before, and on every pass while the
            # store is known damaged (a backup copied over it keeps its inode): a read only.
            verify_integrity(store)
            self._corrupt = None
        if new or reopening.fresh:
            upgrade(store)
        ensure_synced(store, org)
        return store

    def _close_between_passes(self, store: Store) -> None:
        if store.dialect == "sqlite":
            # Between passes hold no SQLite file open: a database file that is moved, restored
            # from a backup or replaced is then the one the next pass uses, never an orphan.
            store.engine.dispose()
            if self._guard is not None:
                self._guard.after_close()

    def _drop_store(self) -> None:
        if self._store is not None:
            with contextlib.suppress(Exception):  # a broken pool must not kill the watcher
                self._store.dispose()
            if self._guard is not None:
                self._guard.after_close()
            self._store = None  # the next pass builds a new pool


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__

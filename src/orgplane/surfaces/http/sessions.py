"""The one session an API process shares between its request threads.

Opening a session per request would open the store (and check its schema) each time; instead
one session is warmed at start-up and shared: the SQLAlchemy engine is safe across threads, and
the org file is reloaded (under a lock, at most once a second) when it changed on disk, keeping
the last good org when the new one is broken, as the daemon does.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from orgplane.service.session import Session

RECHECK_SECONDS = 1.0
log = logging.getLogger("orgplane.http")


class _Borrowed(Session):
    """The shared session as handed out: ``close()`` by a borrower (the dashboard's router
    closes the session it was given after each page) releases nothing; the owner's
    :meth:`SharedSession.close` does."""

    def close(self) -> None:
        return None

    def release(self) -> None:
        super().close()


class SharedSession:
    """A :class:`Session` for many threads: ``get()`` gives it with the org current."""

    def __init__(self, org_path: str | Path | None, db: str | None) -> None:
        opened = Session.open(org_path, db)
        self.session = _Borrowed(opened.org_path, opened.db, explicit_org=opened.explicit_org)
        self._lock = threading.Lock()
        self._checked = 0.0

    def warm(self) -> None:
        """Load the org and open the store now, so bad start-up input fails before serving."""
        with self._lock:
            self.session.store()
            self._checked = time.monotonic()

    def get(self) -> Session:
        """The session, with the org reloaded first if its file changed (checked once a
        second)."""
        now = time.monotonic()
        if now - self._checked >= RECHECK_SECONDS:
            with self._lock:
                if now - self._checked >= RECHECK_SECONDS:
                    broken = self.session.refresh_org()
                    if broken is not None:
                        log.warning(
                            "org file changed but cannot be used; serving the last good one: %s",
                            " ".join(str(broken).split()),
                        )
                    self.session.store()  # syncs a changed org before any thread reads it
                    self._checked = time.monotonic()
        return self.session

    def close(self) -> None:
        """Release the store's connections."""
        self.session.release()
